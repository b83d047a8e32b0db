import hashlib
import io
import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2
from reportlab.lib import colors
from reportlab.pdfgen import canvas

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, format_date, formatLang
from odoo.tools.pdf import PdfFileReader, PdfFileWriter, merge_pdf

from .debt_recovery_escalation import LADDER_KINDS, NO_CREDITS
from .debt_recovery_workflow_mixin import workflow_action
from .ir_actions_report import PDF_PROCESSES

_logger = logging.getLogger(__name__)

SEND_BATCH_SIZE = 100
# Documents rendered in one wkhtmltopdf call: larger batches cost more a
# letter (wkhtmltopdf slows with the number of documents; measured on 200
# letters: 0.087 s a letter by 100, 0.15 s all at once), smaller ones pay
# wkhtmltopdf's start and Odoo's script delay more often (0.27 s by 10).
RENDER_BATCH_SIZE = 100
# Below it, wkhtmltopdf's start costs more than a second process saves.
MIN_RENDER_BATCH_SIZE = 10
# What a communication's email is rendered with (its template's fields).
EMAIL_FIELDS = ("subject", "body_html", "email_from")

COMMUNICATION_STATES = [
    ("queued", "To Send"),
    ("to_approve", "To Approve"),
    # A letter-only communication: it leaves when it is printed.
    ("to_print", "To Print"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
]

# What the user sees: the workflow ``state`` with what became of the email
# (the mail queue, its delivery) and of the letter.
COMMUNICATION_STATUSES = [
    ("to_approve", "To Approve"),
    ("to_send", "To Send"),
    # Sent by the workflow, its email still in the mail queue.
    ("queued", "Queued"),
    ("sent", "Sent"),
    # Its email bounced or could not be delivered.
    ("bounced", "Bounced"),
    ("to_print", "To Print"),
    ("printed", "Printed"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
]
# mail.notification statuses of an email not handed to the SMTP server yet,
# and of an email that did not reach its recipient.
EMAIL_QUEUED = ("ready", "process")
EMAIL_UNDELIVERED = ("bounce", "exception", "canceled")

DUPLICATE_MARK = "DUPLICATE"


def _pdf_has_fonts(pdf):
    """Whether a page of ``pdf`` uses a font (a PDF with text has some)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    for page in reader.pages:
        resources = page.get("/Resources")
        if hasattr(resources, "get_object"):
            resources = resources.get_object()
        if resources and resources.get("/Font"):
            return True
    return False


class DebtRecoveryCommunication(models.Model):
    _name = "debt.recovery.communication"
    _description = "Recovery Communication"
    _inherit = ["mail.thread", "debt.recovery.workflow.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True
    # What happened to it and what left, as it left: written by its actions only.
    _debt_workflow_fields = (
        "state",
        "letter_state",
        "date_sent",
        "mail_message_id",
        "approved_by_id",
        "letter_attachment_id",
        "letter_checksum",
        "email_attachment_id",
        "email_checksum",
        "sent_body",
        "sent_checksum",
        "failure_reason",
        "skip_reason",
        "cancel_reason",
    )

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        readonly=True, comodel_name="res.company", required=True, index=True
    )
    case_id = fields.Many2one(
        readonly=True,
        comodel_name="debt.recovery.case",
        string="Case",
        index=True,
        check_company=True,
        ondelete="restrict",
    )
    partner_id = fields.Many2one(
        readonly=True,
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="restrict",
    )
    contact_id = fields.Many2one(
        readonly=True,
        comodel_name="res.partner",
        string="Addressed To",
        ondelete="restrict",
    )
    currency_id = fields.Many2one(readonly=True, comodel_name="res.currency", required=True)
    level_id = fields.Many2one(
        readonly=True,
        comodel_name="debt.recovery.level",
        string="Level",
        required=True,
        ondelete="restrict",
        check_company=True,
    )
    policy_id = fields.Many2one(related="level_id.policy_id")
    date = fields.Date(required=True, index=True, readonly=True)
    date_sent = fields.Date(
        string="Sent On",
        readonly=True,
        copy=False,
        help="The day the communication left: its email was sent, or its letter " "first printed.",
    )
    state = fields.Selection(
        selection=COMMUNICATION_STATES,
        required=True,
        default="to_approve",
        tracking=True,
        index=True,
    )
    status = fields.Selection(
        selection=COMMUNICATION_STATUSES,
        compute="_compute_status",
        store=True,
        index=True,
        help="What became of the communication: To Send (waiting for the send job), "
        "Queued (its email waits in the mail queue), Sent (its email was handed to the "
        "mail server, or it went out by phone), Bounced (its email bounced or could not "
        "be delivered), To Print / Printed (its letter), and To Approve, Failed, "
        "Skipped, Cancelled.",
    )
    channel_email = fields.Boolean(string="Email", readonly=True)
    channel_letter = fields.Boolean(string="Letter", readonly=True)
    channel_phone = fields.Boolean(string="Phone", readonly=True)
    letter_state = fields.Selection(
        selection=[("none", "No Letter"), ("to_print", "To Print"), ("printed", "Printed")],
        default="none",
        required=True,
        tracking=True,
    )
    line_ids = fields.One2many(
        comodel_name="debt.recovery.communication.line",
        inverse_name="communication_id",
        string="Items",
        readonly=True,
    )
    amount_overdue = fields.Monetary(
        string="Items Claimed",
        compute="_compute_amount_total",
        store=True,
        currency_field="currency_id",
        help="What the claimed items still owe, before credits.",
    )
    credit_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        relation="debt_recovery_communication_credit_rel",
        column1="communication_id",
        column2="move_line_id",
        string="Credits Deducted",
        readonly=True,
        help="Open credit notes, unapplied payments and advances of the customer in "
        "this company and currency, deducted from what the communication claims.",
    )
    amount_credit = fields.Monetary(
        string="Credits",
        readonly=True,
        currency_field="currency_id",
        help="Open credits deducted (a positive amount).",
    )
    amount_total = fields.Monetary(
        string="Net Amount Due",
        compute="_compute_amount_total",
        store=True,
        currency_field="currency_id",
        help="Items claimed less the credits deducted.",
    )
    amount_interest = fields.Monetary(
        string="Late-Payment Interest",
        readonly=True,
        currency_field="currency_id",
        help="The statutory (or contractual) interest accrued on the items claimed, as "
        "the letter states it: computed when the communication was made and again when "
        "it left (formal notice and later levels only; not part of the net amount due).",
    )
    amount_compensation = fields.Monetary(
        string="Recovery Compensation",
        readonly=True,
        currency_field="currency_id",
        help="The fixed compensation for recovery costs the letter states, when it was "
        "made and again when it left.",
    )
    previous_reminder_ids = fields.Many2many(
        comodel_name="debt.recovery.communication",
        string="Earlier Reminders",
        compute="_compute_previous_reminder_ids",
        help="The written reminders (emails, printed letters) that really left for "
        "this customer in this company before this one.",
    )
    date_letter = fields.Date(
        string="Letter Date",
        compute="_compute_date_deadline",
        help="The date the letter bears: the day it left, or today until it leaves.",
    )
    date_deadline = fields.Date(
        string="Pay By",
        compute="_compute_date_deadline",
        help="The payment deadline the letter gives: the level's deadline, counted from "
        "the day the communication leaves.",
    )
    mail_message_id = fields.Many2one(
        comodel_name="mail.message", string="Email Message", readonly=True
    )
    email_status = fields.Selection(
        selection=[
            ("none", "No Email"),
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("failed", "Failed"),
        ],
        compute="_compute_email_status",
    )
    attachment_ids = fields.Many2many(
        related="mail_message_id.attachment_ids",
        string="Attachments",
    )
    # What left, kept as it left: the record a lawyer asks for.
    letter_attachment_id = fields.Many2one(
        comodel_name="ir.attachment",
        string="Document as Sent",
        readonly=True,
        copy=False,
        # The record of what the customer received: never deleted under it.
        ondelete="restrict",
        help="The PDF exactly as it was emailed or first printed. Reprints are "
        "this copy, marked as a duplicate.",
    )
    email_attachment_id = fields.Many2one(
        comodel_name="ir.attachment",
        string="Document as Emailed",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="The PDF attached to the email, kept as the record of the email when "
        "the letter printed later had to be rendered anew.",
    )
    email_checksum = fields.Char(
        string="Emailed Document Checksum (SHA-1)",
        readonly=True,
        copy=False,
    )
    letter_checksum = fields.Char(
        string="Document Checksum (SHA-1)",
        readonly=True,
        copy=False,
        help="The checksum of the document when it left: compare it with the "
        "attachment's to prove the copy unchanged.",
    )
    sent_body = fields.Html(
        string="Email as Sent",
        readonly=True,
        copy=False,
        # Kept byte for byte as rendered: the template escapes its values.
        sanitize=False,
    )
    sent_checksum = fields.Char(
        string="Email Checksum (SHA-1)",
        readonly=True,
        copy=False,
        help="The SHA-1 of the email body as sent.",
    )
    failure_reason = fields.Text(readonly=True)
    skip_reason = fields.Text(readonly=True)
    cancel_reason = fields.Text(
        readonly=True,
        help="Why the communication was never sent: what it claimed was paid, "
        "disputed or covered when it was about to leave.",
    )
    approved_by_id = fields.Many2one(comodel_name="res.users", string="Approved By", readonly=True)

    # === COMPUTE METHODS === #
    @api.depends("partner_id", "level_id", "date")
    def _compute_name(self):
        for comm in self:
            comm.name = f"{comm.level_id.name or ''} - {comm.partner_id.display_name or ''}"

    @api.depends("line_ids.amount_residual_currency", "amount_credit")
    def _compute_amount_total(self):
        for comm in self:
            comm.amount_overdue = sum(comm.line_ids.mapped("amount_residual_currency"))
            comm.amount_total = comm.amount_overdue - comm.amount_credit

    @api.depends("partner_id", "company_id", "date", "date_sent")
    def _compute_previous_reminder_ids(self):
        """One read for all: the written reminders of overdue invoices that
        really left (email sent, or letter printed) for the same customers,
        before each one (a courtesy reminder, sent before a due date, is not
        a reminder of a late payment)."""
        earlier = self.search(
            [
                ("partner_id", "in", self.partner_id.ids),
                ("company_id", "in", self.company_id.ids),
                ("state", "=", "sent"),
                ("level_id.days", ">", 0),
                "|",
                ("channel_email", "=", True),
                ("letter_state", "=", "printed"),
            ],
            order="date_sent, date, id",
        )
        today = fields.Date.context_today(self)
        for comm in self:
            sent_on = comm.date_sent or today
            comm.previous_reminder_ids = earlier.filtered(
                lambda c, comm=comm, sent_on=sent_on: c.id != comm.id
                and c.partner_id == comm.partner_id
                and c.company_id == comm.company_id
                # Strictly before the day: another currency's reminder of the
                # same day is not an earlier one.
                and (c.date_sent or c.date) < sent_on
            )

    @api.depends("level_id.payment_days", "date_sent")
    def _compute_date_deadline(self):
        today = fields.Date.context_today(self)
        for comm in self:
            comm.date_letter = comm.date_sent or today
            days = comm.level_id.payment_days
            comm.date_deadline = days and comm.date_letter + timedelta(days=days)

    @api.depends("mail_message_id.notification_ids.notification_status")
    def _compute_email_status(self):
        """Bounces and delivery failures come back here from the email's
        notifications (and show on the case's message, where Odoo flags them)."""
        for comm in self:
            notifications = comm.mail_message_id.notification_ids.filtered(
                lambda n: n.notification_type == "email"
            )
            if not comm.mail_message_id:
                comm.email_status = "none"
            elif any(n.notification_status in ("exception", "bounce") for n in notifications):
                comm.email_status = "failed"
            elif notifications and all(n.notification_status == "sent" for n in notifications):
                comm.email_status = "sent"
            else:
                comm.email_status = "queued"

    @api.depends(
        "state",
        "letter_state",
        "channel_email",
        "mail_message_id.notification_ids.notification_status",
    )
    def _compute_status(self):
        for comm in self:
            if comm.state != "sent":
                comm.status = "to_send" if comm.state == "queued" else comm.state
                continue
            statuses = {
                notification.notification_status
                for notification in comm.mail_message_id.notification_ids
                if notification.notification_type == "email"
            }
            if statuses & set(EMAIL_UNDELIVERED):
                comm.status = "bounced"
            elif statuses & set(EMAIL_QUEUED):
                comm.status = "queued"
            elif comm.letter_state == "to_print":
                comm.status = "to_print"
            elif comm.letter_state == "printed" and not comm.channel_email:
                comm.status = "printed"
            else:
                comm.status = "sent"

    # === CRUD METHODS === #
    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        if any(comm.state != "to_approve" for comm in self):
            raise UserError(
                self.env._(
                    "A communication that was sent or skipped is a record: it cannot be deleted."
                )
            )

    # === ACTION METHODS === #
    @workflow_action
    def action_approve(self):
        self._debt_ensure_workflow_access()
        pending = self.filtered(lambda c: c.state == "to_approve")
        if not pending:
            raise UserError(self.env._("Only communications waiting for approval can be approved."))
        pending._send()
        # Only those that left were approved into sending: one cancelled at
        # approval (paid meanwhile) says why, not who approved it.
        pending.filtered(lambda c: c.state in ("sent", "to_print")).write(
            {"approved_by_id": self.env.uid}
        )
        return pending._notify_outcome()

    @workflow_action
    def action_retry(self):
        """Send the failed communications again (after their cause was fixed)."""
        self._debt_ensure_workflow_access()
        failed = self.filtered(lambda c: c.state == "failed")
        if not failed:
            raise UserError(self.env._("Only communications that failed can be retried."))
        failed.write({"state": "queued", "failure_reason": False})
        failed._send()
        return failed._notify_outcome()

    def action_skip(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Skip Communications"),
            "res_model": "debt.recovery.communication.skip",
            "view_mode": "form",
            "target": "new",
            "context": {"default_communication_ids": self.ids},
        }

    @workflow_action
    def _skip(self, reason):
        self._debt_ensure_workflow_access()
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the communication is skipped."))
        pending = self.filtered(lambda c: c.state == "to_approve")
        if pending != self:
            raise UserError(self.env._("Only communications waiting for approval can be skipped."))
        pending.write({"state": "skipped", "skip_reason": reason})
        for comm in pending:
            comm._thread().message_post(
                body=self.env._(
                    "%(level)s skipped by %(user)s: %(reason)s",
                    level=comm.level_id.name,
                    user=self.env.user.name,
                    reason=reason,
                ),
                subtype_xmlid="mail.mt_note",
            )

    @workflow_action
    def action_print_letters(self):
        """Print the selected letters as one PDF and mark them as printed.

        A letter printed for the first time is checked against today's items
        (``_recheck_claims``), rendered once and kept; a letter printed before
        is that kept copy again, stamped as a duplicate. A letter left with
        nothing to claim is cancelled, not printed.
        """
        self._debt_ensure_workflow_access()
        letters = self.filtered(
            lambda c: c.channel_letter and c.letter_state in ("to_print", "printed")
        )
        if not letters:
            raise UserError(self.env._("There is no letter to print in the selection."))
        letters._prepare_letters()
        letters = letters.filtered(
            lambda c: c.state == "sent" and c.letter_state != "none" and c.letter_attachment_id
        )
        if not letters:
            return self._notify_outcome()
        attachment = self.env["ir.attachment"].create(
            {
                "name": self.env._(
                    "Recovery letters %(date)s.pdf", date=fields.Date.context_today(self)
                ),
                "raw": letters._printed_copies(),
                "mimetype": "application/pdf",
            }
        )
        to_mark = letters.filtered(lambda c: c.letter_state == "to_print")
        if to_mark:
            to_mark._mark_printed()
        # Downloaded, then the action closes: the list or form that printed
        # reloads and shows the letters Printed (static/src/actions).
        action = {
            "type": "ir.actions.client",
            "tag": "debt_recovery_download",
            "params": {"url": f"/web/content/{attachment.id}?download=true"},
        }
        notification = self._notify_outcome()
        if isinstance(notification, dict):
            # A word on the letters not printed, then the download.
            notification["params"]["next"] = action
            return notification
        return action

    @workflow_action
    def action_mark_printed(self):
        """Mark letters printed elsewhere: each is checked and kept as it was
        printed (the same as ``action_print_letters`` without the download)."""
        self._debt_ensure_workflow_access()
        letters = self.filtered(lambda c: c.letter_state == "to_print")
        if not letters:
            raise UserError(self.env._("There is no letter to print in the selection."))
        letters._prepare_letters()
        letters.filtered(
            lambda c: c.state == "sent" and c.letter_state != "none" and c.letter_attachment_id
        )._mark_printed()
        return letters._notify_outcome()

    # === BUSINESS METHODS === #
    @workflow_action
    def _send(self):
        """Send through each channel of the level; the record says what happened.

        Only communications not sent yet are sent: never twice. Every line is
        checked against today's items first (``_recheck_claims``): what is
        sent is true when it leaves, rendered now. Each communication is sent
        in its own savepoint: one that fails is marked failed with its
        reason, the others go out.
        """
        todo = self.filtered(lambda c: c.state in ("queued", "to_approve"))
        if not todo:
            return
        todo = todo._recheck_claims()
        # The PDFs of the emails, rendered together (one wkhtmltopdf call per
        # report, company and language); should that fail, each renders its
        # own below, alone.
        emailed = todo.filtered(lambda c: c.channel_email and c._document_report())
        if len(emailed) > 1:
            try:
                with self.env.cr.savepoint():
                    emailed._store_documents()
            except psycopg2.OperationalError:
                raise
            except Exception:  # pylint: disable=broad-except
                _logger.warning("Recovery PDFs: batch rendering failed, one by one.", exc_info=True)
        # The emails, rendered together too (a template is compiled once per
        # call); should that fail, each renders its own below, alone.
        emails = {}
        try:
            with self.env.cr.savepoint():
                emails = todo.filtered("channel_email")._render_emails()
        except psycopg2.OperationalError:
            raise
        except Exception:  # pylint: disable=broad-except
            _logger.warning("Recovery emails: batch rendering failed, one by one.", exc_info=True)
        today = fields.Date.context_today(self)
        for comm in todo:
            try:
                with self.env.cr.savepoint():
                    comm._send_one(today, emails.get(comm.id))
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # pylint: disable=broad-except
                _logger.warning("Recovery communication %s failed: %s", comm.id, error)
                comm._mark_failed(error)

    def _send_one(self, today, email=None):
        """Send one communication; ``email``: its email already rendered
        (``_render_emails``), or None to render it now."""
        self.ensure_one()
        if self.channel_letter and not self.channel_email and not self.channel_phone:
            # A letter alone leaves when it is printed (``_prepare_letters``):
            # not sent, logged nor escalated before; the cron no longer picks it.
            self.write({"state": "to_print", "letter_state": "to_print"})
            return
        if self.channel_email:
            self._send_email(email)
        if self.channel_letter:
            self.letter_state = "to_print"
        if self.channel_phone:
            self._schedule_call()
        self.write({"state": "sent", "date_sent": self.date_sent or today})
        self._log_on_customer()
        self.case_id._escalate_stage(self.level_id.stage_id)
        self._charge_on_leaving()

    def _charge_on_leaving(self):
        """A level that charges interest and costs charges them as its
        communication leaves. A charge that cannot be made (nothing accrued,
        no income account, a locked period) is noted on the case and holds
        nothing back."""
        for comm in self.filtered(lambda c: c.level_id.charge_late_payment and c.case_id):
            try:
                with self.env.cr.savepoint():
                    # sudo: the level's setting decides, not the sender's rights.
                    self.env["debt.recovery.charge"].sudo()._debt_charge_case(comm.case_id)
            except UserError as error:
                comm.case_id.message_post(
                    body=self.env._(
                        "Interest and costs not charged with %(level)s: %(reason)s",
                        level=comm.level_id.name,
                        reason=error.args[0],
                    )
                )

    def _mark_failed(self, error):
        self.ensure_one()
        reason = str(getattr(error, "args", None) and error.args[0] or error) or repr(error)
        vals = {"state": "failed", "failure_reason": reason}
        document = self.letter_attachment_id
        if document and not self.date_sent:
            # Rendered for a sending that did not happen: a retry renders anew.
            vals.update(
                letter_attachment_id=False,
                letter_checksum=False,
                email_attachment_id=False,
                email_checksum=False,
            )
        self.write(vals)
        if document and not self.date_sent:
            # sudo: the system's own copy, as when it was made.
            document.sudo().unlink()
        self.message_post(
            body=self.env._("Sending failed: %(reason)s", reason=reason),
            subtype_xmlid="mail.mt_note",
        )

    def _notify_outcome(self):
        """A notification saying what was cancelled or failed (or nothing)."""
        cancelled = self.filtered(lambda c: c.state == "cancelled")
        failed = self.filtered(lambda c: c.state == "failed")
        messages = [
            self.env._("%(name)s: cancelled, %(reason)s", name=comm.name, reason=comm.cancel_reason)
            for comm in cancelled
        ] + [
            self.env._("%(name)s: failed, %(reason)s", name=comm.name, reason=comm.failure_reason)
            for comm in failed
        ]
        unprinted = self.filtered(
            lambda c: c.state == "sent"
            and c.channel_letter
            and c.letter_state == "none"
            and c.cancel_reason
        )
        messages += [
            self.env._(
                "%(name)s: letter not printed (the email stays sent), %(reason)s",
                name=comm.name,
                reason=comm.cancel_reason,
            )
            for comm in unprinted
        ]
        if not messages:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Not everything was sent"),
                "message": "\n".join(messages),
                "type": "warning",
                "sticky": True,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _recheck_claims(self):
        """Check every line against its item now, for all of ``self`` at once.

        Items paid, cancelled, disputed, or covered by a plan or a promise
        since the communication was made are dropped (their line deleted: the
        level was never sent for them); partly paid items claim what they
        still owe; the credits are read again. A communication left with
        nothing to claim (no item, a net amount of zero or less, or below its
        level's minimum), or whose case is held in a stage off the ladder, is
        cancelled with the reason, and logged.

        :return: the communications still to send.
        """
        if not self:
            return self
        today = fields.Date.context_today(self)
        lines = self.line_ids
        items = lines.move_line_id
        # One read of every item of every communication (no query per line).
        items.fetch(
            [
                "parent_state",
                "reconciled",
                "amount_residual",
                "amount_residual_currency",
                "debt_dispute_id",
                "debt_plan_id",
                "debt_promise_id",
                "debt_legal_action_id",
                "debt_agency_handoff_id",
                "move_id",
            ]
        )
        items.move_id.fetch(["name", "debt_no_reminder"])
        self.case_id.fetch(["stage_id", "stage_kind"])
        credits = self._current_credits()
        reasons = self._drop_reasons()
        to_drop = self.env["debt.recovery.communication.line"]
        to_cancel = {}
        for comm in self:
            kept, dropped = comm._refresh_lines(today, reasons)
            to_drop |= comm.line_ids - kept
            credit = credits[comm]
            amount_credit = comm.currency_id.round(credit.amount_currency)
            if set(credit.line_ids) != set(
                comm.credit_line_ids.ids
            ) or comm.currency_id.compare_amounts(amount_credit, comm.amount_credit):
                comm.write(
                    {
                        "credit_line_ids": [Command.set(list(credit.line_ids))],
                        "amount_credit": amount_credit,
                    }
                )
            reason = comm._cancel_reason(kept, dropped, credit)
            if reason:
                to_cancel[comm] = reason
            elif dropped:
                comm.message_post(
                    body=self.env._(
                        "Checked before sending, no longer claimed: %(items)s.",
                        items="; ".join(dropped),
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        if to_drop:
            # sudo: the check drops what may no longer be claimed; collectors
            # may not delete communication lines by hand.
            to_drop.sudo().unlink()
        cancelled = self.browse()
        for comm, reason in to_cancel.items():
            comm._cancel(reason)
            cancelled |= comm
        kept = self - cancelled
        kept._store_late_payment(today)
        return kept

    def _store_late_payment(self, today):
        """Set the interest and compensation the letters of these
        communications state (legal-notice levels), from one computation over
        all their items; written only where they changed."""
        notices = self.filtered(lambda comm: comm.level_id.legal_notice)
        if not notices:
            return
        figures = notices.line_ids.move_line_id._debt_late_payment(today)
        for comm in notices:
            interest = compensation = 0.0
            for line in comm.line_ids:
                figure = figures.get(line.move_line_id.id)
                if figure:
                    interest += figure.interest
                    compensation += figure.compensation
            currency = comm.currency_id
            if currency.compare_amounts(interest, comm.amount_interest) or (
                currency.compare_amounts(compensation, comm.amount_compensation)
            ):
                comm.write({"amount_interest": interest, "amount_compensation": compensation})

    def _drop_reasons(self):
        """{why: how a letter's check says it} for ``_drop_reason``'s answers."""
        return {
            "cancelled": self.env._("cancelled"),
            "paid": self.env._("paid"),
            "disputed": self.env._("disputed"),
            "plan": self.env._("in a payment plan"),
            "promise": self.env._("promised"),
            "legal": self.env._("under legal action"),
            "agency": self.env._("with a collection agency"),
            "excluded": self.env._("excluded from reminders"),
            "time_barred": self.env._("time-barred"),
        }

    def _current_credits(self):
        """{communication: the open credits it deducts now} (none when its
        policy does not net them), in one query for all of ``self``."""

        def key(comm):
            return (
                comm.partner_id.commercial_partner_id.id,
                comm.company_id.id,
                comm.currency_id.id,
            )

        netting = self.filtered(lambda c: c.policy_id.net_credits)
        credits = self.env["debt.recovery.escalation"]._credits_by_key(
            {key(comm) for comm in netting}
        )
        return {
            comm: credits.get(key(comm), NO_CREDITS) if comm in netting else NO_CREDITS
            for comm in self
        }

    def _refresh_lines(self, today, reasons):
        """The lines still claimed, updated in the cache (flushed together),
        and the description of those to drop."""
        self.ensure_one()
        dropped = []
        kept = self.line_ids.browse()
        for line in self.line_ids:
            item = line.move_line_id
            why = self._drop_reason(item, line.currency_id)
            if why:
                dropped.append(f"{item.move_id.name}: {reasons[why]}")
                continue
            kept |= line
            vals = {}
            if line.currency_id.compare_amounts(
                line.amount_residual_currency, item.amount_residual_currency
            ):
                vals["amount_residual_currency"] = item.amount_residual_currency
            if line.date_maturity and line.days_overdue != (today - line.date_maturity).days:
                vals["days_overdue"] = (today - line.date_maturity).days
            if vals:
                # Flushed in one UPDATE for all the lines.
                line.write(vals)
        return kept, dropped

    def _cancel_reason(self, kept, dropped, credit):
        """Why the communication must not leave with the lines ``kept`` and the
        credits ``credit``, or None."""
        self.ensure_one()
        currency, company_currency = self.currency_id, self.company_id.currency_id
        overdue = sum(kept.mapped("move_line_id.amount_residual_currency"))
        net = overdue - currency.round(credit.amount_currency)
        net_company = sum(kept.mapped("move_line_id.amount_residual")) - credit.amount
        if self.case_id and self.case_id.stage_kind not in (*LADDER_KINDS, "closed"):
            return self.env._(
                "the case is in the stage %(stage)s, which holds the escalation.",
                stage=self.case_id.stage_id.name,
            )
        if not kept:
            return self.env._("nothing left to claim (%(items)s).", items="; ".join(dropped))
        if currency.compare_amounts(net, 0) <= 0:
            return self.env._(
                "the open credits (%(credits)s) cover the items claimed (%(items)s).",
                credits=format_amount(self.env, credit.amount_currency, currency),
                items=format_amount(self.env, overdue, currency),
            )
        if company_currency.compare_amounts(net_company, self.level_id.min_amount) < 0:
            return self.env._(
                "the net amount due (%(net)s) is below the level's minimum (%(min)s).",
                net=format_amount(self.env, net_company, company_currency),
                min=format_amount(self.env, self.level_id.min_amount, company_currency),
            )
        return None

    @api.model
    def _drop_reason(self, item, currency):
        """Why ``item`` may no longer be claimed (a key), or None."""
        if item.parent_state != "posted":
            return "cancelled"
        if item.reconciled or currency.compare_amounts(item.amount_residual_currency, 0) <= 0:
            return "paid"
        if item.debt_dispute_id:
            return "disputed"
        if item.debt_plan_id:
            return "plan"
        if item.debt_promise_id:
            return "promise"
        if item.debt_legal_action_id:
            return "legal"
        if item.debt_agency_handoff_id:
            return "agency"
        if item.move_id.debt_no_reminder:
            return "excluded"
        # A claim past its limitation date is never claimed as enforceable.
        if item.debt_time_barred:
            return "time_barred"
        return None

    def _cancel(self, reason):
        """Never sent: the reason is kept and logged where the contact is on record."""
        self.ensure_one()
        vals = {"state": "cancelled", "cancel_reason": reason}
        if self.letter_state == "to_print":
            vals["letter_state"] = "none"
        self.write(vals)
        self._thread().message_post(
            body=self.env._(
                "%(level)s cancelled before it left: %(reason)s",
                level=self.level_id.name,
                reason=reason,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _document_report(self):
        """The report of the communication's PDF, or an empty record (none)."""
        self.ensure_one()
        report = self.level_id.report_id
        if not report and self.channel_letter:
            report = self.env.ref("debt_recovery.action_report_recovery_letter")
        return report

    def _prepare_letters(self):
        """Letters about to be printed for the first time: checked now, then
        rendered once and kept. Those whose document already left (by email,
        or printed before) are kept as they are."""
        first = self.filtered(
            lambda c: c.state in ("sent", "to_print")
            and c.letter_state == "to_print"
            and not c.letter_attachment_id
        )
        first = first._recheck_claims()
        first._store_documents()
        today = fields.Date.context_today(self)
        first.filtered(lambda c: not c.date_sent).date_sent = today
        # Letters alone leave now: sent, logged and escalated at printing.
        leaving = first.filtered(lambda c: c.state == "to_print")
        if leaving:
            leaving.write({"state": "sent"})
            for comm in leaving:
                comm._log_on_customer()
                comm.case_id._escalate_stage(comm.level_id.stage_id)
            leaving._charge_on_leaving()
        # Emailed before, printed now: the letter leaves today, so it is
        # checked today; the email's PDF stays the record of the email.
        emailed = self.filtered(
            lambda c: c.state == "sent"
            and c.letter_state == "to_print"
            and c.letter_attachment_id
            and c.letter_attachment_id == c.email_attachment_id
        )
        if emailed:
            emailed._recheck_letters_after_email()

    def _recheck_letters_after_email(self):
        """Check the letters of emailed communications at their first print.

        Unchanged since the email: the stored copy is printed as is. Changed
        (items paid, partly paid, disputed, in a plan or promised, credits
        moved): the letter is rendered anew and kept as its own document, and
        the chatter says what changed. Nothing left to claim: the letter is
        not printed (the email stays sent) and the communication says why.
        """
        before = {
            comm: (
                {line.id: line.amount_residual_currency for line in comm.line_ids},
                set(comm.credit_line_ids.ids),
                comm.amount_credit,
            )
            for comm in self
        }
        today = fields.Date.context_today(self)
        reasons = self._drop_reasons()
        credits = self._current_credits()
        to_drop = self.env["debt.recovery.communication.line"]
        rerender = self.browse()
        for comm in self:
            lines_before, credits_before, credit_amount_before = before[comm]
            kept, dropped = comm._refresh_lines(today, reasons)
            credit = credits[comm]
            reason = comm._cancel_reason(kept, dropped, credit)
            if reason:
                comm.write({"letter_state": "none", "cancel_reason": reason})
                comm._thread().message_post(
                    body=self.env._(
                        "Letter %(level)s not printed (the email stays sent): %(reason)s",
                        level=comm.level_id.name,
                        reason=reason,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            changes = list(dropped)
            for line in kept:
                old = lines_before[line.id]
                if line.currency_id.compare_amounts(old, line.amount_residual_currency):
                    changes.append(
                        self.env._(
                            "%(item)s: %(old)s now %(new)s",
                            item=line.move_line_id.move_id.name,
                            old=format_amount(self.env, old, line.currency_id),
                            new=format_amount(
                                self.env, line.amount_residual_currency, line.currency_id
                            ),
                        )
                    )
            amount_credit = comm.currency_id.round(credit.amount_currency)
            if set(credit.line_ids) != credits_before or comm.currency_id.compare_amounts(
                amount_credit, credit_amount_before
            ):
                comm.write(
                    {
                        "credit_line_ids": [Command.set(list(credit.line_ids))],
                        "amount_credit": amount_credit,
                    }
                )
                changes.append(
                    self.env._(
                        "credits deducted %(old)s now %(new)s",
                        old=format_amount(self.env, credit_amount_before, comm.currency_id),
                        new=format_amount(self.env, amount_credit, comm.currency_id),
                    )
                )
            if not changes:
                continue
            to_drop |= comm.line_ids - kept
            rerender |= comm
            comm.message_post(
                body=self.env._(
                    "Letter checked at printing, changed since the email of %(date)s: "
                    "%(changes)s.",
                    date=format_date(self.env, comm.date_sent),
                    changes="; ".join(changes),
                ),
                subtype_xmlid="mail.mt_note",
            )
        if to_drop:
            # sudo: as in ``_recheck_claims``.
            to_drop.sudo().unlink()
        if rerender:
            # The email's PDF stays on ``email_attachment_id``; the letter gets its own.
            rerender.write({"letter_attachment_id": False, "letter_checksum": False})
            rerender._store_documents()

    def _mark_printed(self):
        self.write({"letter_state": "printed"})
        for comm in self:
            comm._thread().message_post(
                body=self.env._("Letter %(level)s printed and posted.", level=comm.level_id.name),
                subtype_xmlid="mail.mt_note",
            )

    def _printed_copies(self):
        """The kept documents of the letters, merged; those printed before are
        stamped as duplicates. Never a new rendering."""
        pdfs = []
        for comm in self.sorted(lambda c: (c.partner_id.name or "", c.id)):
            pdf = comm.letter_attachment_id.raw
            if comm.letter_state == "printed":
                pdf = comm._stamp_duplicate(pdf)
            pdfs.append(pdf)
        if len(pdfs) == 1:
            return pdfs[0]
        if not all(pdf.startswith(b"%PDF-") for pdf in pdfs):
            # Test renderings are HTML (no wkhtmltopdf): one after the other.
            return b"\n".join(pdfs)
        return merge_pdf(pdfs)

    def _stamp_duplicate(self, pdf):
        """``pdf`` with each page marked DUPLICATE (a line at the top naming
        the original, and a watermark): the kept copy itself is untouched."""
        self.ensure_one()
        if not pdf.startswith(b"%PDF-"):
            # Test renderings are HTML (no wkhtmltopdf): marked in text.
            return DUPLICATE_MARK.encode() + b"\n" + pdf
        note = self.env._(
            "%(mark)s - copy of the document sent on %(date)s (SHA-1 %(checksum)s)",
            mark=DUPLICATE_MARK,
            date=format_date(self.env, self.date_sent or self.date),
            checksum=self.letter_checksum or "",
        )
        original = PdfFileReader(io.BytesIO(pdf), strict=False, overwriteWarnings=False)
        packet = io.BytesIO()
        can = canvas.Canvas(packet)
        red = colors.Color(0.75, 0.1, 0.1)
        for number in range(original.getNumPages()):
            box = original.getPage(number).mediaBox
            width, height = float(abs(box.getWidth())), float(abs(box.getHeight()))
            can.setPageSize((width, height))
            can.setFillColor(red)
            can.setFont("Helvetica-Bold", 9)
            can.drawCentredString(width / 2, height - 16, note)
            can.saveState()
            can.setFillColor(red, alpha=0.18)
            can.setFont("Helvetica-Bold", 110)
            can.translate(width / 2, height / 2)
            can.rotate(45)
            can.drawCentredString(0, -40, DUPLICATE_MARK)
            can.restoreState()
            can.showPage()
        can.save()
        overlay = PdfFileReader(packet, overwriteWarnings=False)
        writer = PdfFileWriter()
        for number in range(original.getNumPages()):
            page = original.getPage(number)
            if "/Annots" in page:
                # Links trip PyPDF2 when merging (as Odoo's own banner does).
                del page["/Annots"]
            page.mergePage(overlay.getPage(number))
            writer.addPage(page)
        stream = io.BytesIO()
        writer.write(stream)
        return stream.getvalue()

    def _store_documents(self):
        """Render the PDF of each communication without one, once, and keep it
        as its own attachment (with its checksum)."""
        todo = self.filtered(lambda c: not c.letter_attachment_id and c._document_report())
        if not todo:
            return self.env["ir.attachment"]
        documents = todo._render_documents()
        # sudo: the document is the system's record of what left; collectors
        # who send may not write attachments of communications.
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": f"{comm.level_id.name} - {comm.partner_id.name}.pdf",
                        "raw": documents[comm.id],
                        "mimetype": "application/pdf"
                        if documents[comm.id].startswith(b"%PDF-")
                        else "text/html",
                        "res_model": self._name,
                        "res_id": comm.id,
                    }
                    for comm in todo
                ]
            )
        )
        for comm, attachment in zip(todo, attachments, strict=True):
            comm.write(
                {"letter_attachment_id": attachment.id, "letter_checksum": attachment.checksum}
            )
        return attachments

    def _render_documents(self):
        """{communication id: its own PDF}, as the communications read now.

        The communications of one report, company and language are rendered
        in batches (Odoo's multi-record rendering: one article a
        communication, each with its own header, footer and page numbers),
        one wkhtmltopdf process a core at once, then cut into one PDF each at
        its top-level outline (``ir.actions.report._debt_render_pdfs``). A
        batch that cannot be cut so is rendered one communication at a time.
        """
        default = self.env.ref("debt_recovery.action_report_recovery_letter")
        groups = defaultdict(list)
        for comm in self:
            lang = (comm.contact_id or comm.partner_id).lang or self.env.lang
            groups[comm._document_report() or default, comm.company_id, lang].append(comm.id)
        Report = self.env["ir.actions.report"]
        documents = {}
        # Small enough that the documents render side by side (one
        # wkhtmltopdf process a core), at most RENDER_BATCH_SIZE.
        size = max(MIN_RENDER_BATCH_SIZE, -(-len(self) // PDF_PROCESSES))
        size = min(size, RENDER_BATCH_SIZE)
        batches = [
            (
                Report.with_company(company).with_context(lang=lang),
                report,
                ids[start : start + size],
            )
            for (report, company, lang), ids in groups.items()
            for start in range(0, len(ids), size)
        ]
        if Report._debt_renders_pdf():
            documents = Report._debt_render_pdfs([batch for batch in batches if len(batch[2]) > 1])
        for renderer, report, ids in batches:
            for res_id in ids:
                if res_id not in documents:
                    # Alone, or a batch that could not be cut apart (HTML
                    # under tests).
                    documents[res_id] = renderer._render_qweb_pdf(report, [res_id])[0]
        blank = self.browse(
            res_id
            for res_id, document in documents.items()
            if document.startswith(b"%PDF-") and not _pdf_has_fonts(document)
        )
        if blank:
            # wkhtmltopdf hides text whose web font it cannot load: such a
            # letter is blank. Nothing leaves; the reason says what to fix.
            raise UserError(
                self.env._(
                    "The PDF of %(names)s came out without any text: wkhtmltopdf could "
                    "not load the fonts from %(url)s. The system parameter report.url "
                    "(or web.base.url) must be an address this server reaches. "
                    "Nothing was sent.",
                    names=", ".join(blank.mapped("name")),
                    url=self.env["ir.actions.report"]._get_report_url(),
                )
            )
        return documents

    def _render_letters_pdf(self):
        """One PDF with every letter (as they read today: a new rendering),
        in the order of the print batch."""
        letters = self.sorted(lambda c: (c.partner_id.name or "", c.id))
        documents = letters._render_documents()
        pdfs = [documents[letter.id] for letter in letters]
        return pdfs[0] if len(pdfs) == 1 else merge_pdf(pdfs)

    def _credit_label(self, credit):
        """How the customer reads the credit ``credit`` deducted: a credit note
        by its number, a payment by its date and reference."""
        self.ensure_one()
        move = credit.move_id
        if move.move_type == "out_refund":
            return self.env._("Less credit note %(name)s", name=move.name)
        if move.origin_payment_id or move.statement_line_id:
            reference = move.origin_payment_id.memo or move.ref or move.name
            return self.env._(
                "Less your payment of %(date)s (%(ref)s)",
                date=format_date(self.env, credit.date),
                ref=reference,
            )
        return self.env._(
            "Less credit %(name)s of %(date)s",
            name=move.name,
            date=format_date(self.env, credit.date),
        )

    def _level_fee(self):
        """The fee of this communication's level, in company currency."""
        self.ensure_one()
        company = self.company_id
        claimed = self.currency_id._convert(
            self.amount_total, company.currency_id, company, self.date_sent or self.date
        )
        return self.level_id._fee_for(claimed)

    def _late_payment_rule(self):
        """The late-payment law the letter states: its policy's, by default
        the company's country's (``none``: the policy claims nothing)."""
        self.ensure_one()
        rule = self.policy_id.interest_rule or "company"
        return self.company_id._debt_jurisdiction() if rule == "company" else rule

    def _late_payment_terms(self):
        """What a letter under the policy's own terms states, as whole
        sentences in the letter's language: the legal basis (the policy's
        own wording, else ours), the rate formula, the fixed compensation."""
        self.ensure_one()
        policy = self.policy_id
        rate = policy.interest_rate_kind_id.name or ""
        margin = formatLang(self.env, policy.interest_margin, digits=2)
        fixed = policy.interest_compensation
        compensation = formatLang(self.env, fixed, currency_obj=policy.currency_id)
        if policy.interest_terms:
            basis = policy.interest_terms
        elif fixed:
            basis = self.env._(
                "Under our terms of sale, late-payment interest is due from the day after the "
                "due date at %(rate)s plus %(margin)s percentage points a year, together with "
                "a fixed compensation for recovery costs of %(compensation)s per invoice.",
                rate=rate,
                margin=margin,
                compensation=compensation,
            )
        else:
            basis = self.env._(
                "Under our terms of sale, late-payment interest is due from the day after the "
                "due date at %(rate)s plus %(margin)s percentage points a year.",
                rate=rate,
                margin=margin,
            )
        return {
            "basis": basis,
            "formula": self.env._("%(rate)s + %(margin)s points a year", rate=rate, margin=margin),
            "compensation": self.env._("%(amount)s per invoice", amount=compensation)
            if fixed
            else self.env._("none"),
        }

    def _late_payment_summary(self):
        """What the letter states of the late-payment interest and the fixed
        compensation accrued today on its items: a row per invoice and the
        totals, in the communication's currency; and the level's fee."""
        self.ensure_one()
        items = self.line_ids.move_line_id.sorted(lambda line: (line.date_maturity, line.id))
        figures = items._debt_late_payment(fields.Date.context_today(self))
        rows = []
        for item in items:
            figure = figures.get(item.id)
            if not figure or not (figure.interest or figure.compensation):
                continue
            rows.append(
                {
                    "name": item.move_id.name,
                    "date_from": figure.accrual.date_from,
                    "rates": " / ".join(
                        f"{formatLang(self.env, rate, digits=2)} %"
                        for _day, rate in figure.accrual.rates
                    ),
                    "interest": figure.interest,
                    "compensation": figure.compensation,
                }
            )
        return {
            "rows": rows,
            "interest": sum(row["interest"] for row in rows),
            "compensation": sum(row["compensation"] for row in rows),
            "fee": self._level_fee(),
        }

    def _disputed_lines(self):
        """The customer's disputed items in this currency: shown apart, not claimed."""
        self.ensure_one()
        return self.env["account.move.line"].search(
            [
                ("partner_id", "child_of", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("currency_id", "=", self.currency_id.id),
                ("debt_dispute_id", "!=", False),
                *self.env["account.move.line"]._debt_open_domain(),
            ]
        )

    def _thread(self):
        """Where the contact is on record: the case, or the customer without one."""
        self.ensure_one()
        # sudo: collectors may not edit customers, yet their contacts are logged
        # there (the message author stays the current user).
        return self.case_id or self.partner_id.sudo()

    def _email_lang(self):
        self.ensure_one()
        return self.contact_id.lang or self.partner_id.lang or self.env.lang

    def _render_emails(self):
        """{communication id: its email rendered now (subject, body, sender)},
        the communications of one template and language in one rendering."""
        groups = defaultdict(list)
        for comm in self:
            groups[comm.level_id.mail_template_id, comm._email_lang()].append(comm.id)
        emails = {}
        for (template, lang), ids in groups.items():
            if template:
                emails.update(
                    template.with_context(lang=lang)._generate_template(ids, EMAIL_FIELDS)
                )
        return emails

    def _send_email(self, rendered=None):
        """Send the email (``rendered`` by ``_render_emails``, or rendered now)
        with the communication's PDF, the same attachment that is kept; the
        body is kept too, with its checksum."""
        self.ensure_one()
        lang = self._email_lang()
        if rendered is None:
            rendered = self._render_emails().get(self.id)
        if rendered is None:
            raise UserError(
                self.env._("The level %(level)s has no email template.", level=self.level_id.name)
            )
        body = rendered.get("body_html") or ""
        attachments = []
        if self._document_report():
            self.with_context(lang=lang)._store_documents()
            self.write(
                {
                    "email_attachment_id": self.letter_attachment_id.id,
                    "email_checksum": self.letter_checksum,
                }
            )
        if self.level_id.attach_invoices:
            invoice_report = self.env.ref("account.account_invoices")
            for invoice in self.line_ids.move_id.filtered(lambda m: m.is_invoice()):
                pdf, _fmt = (
                    self.env["ir.actions.report"]
                    .with_context(lang=lang)
                    ._render_qweb_pdf(invoice_report, invoice.ids)
                )
                attachments.append((f"{invoice.name.replace('/', '_')}.pdf", pdf))
        thread = self._thread().with_context(mail_notify_force_send=False)
        message = thread.message_post(
            subject=rendered.get("subject"),
            body=body,
            email_from=rendered.get("email_from") or None,
            partner_ids=self.contact_id.ids,
            attachments=attachments,
            attachment_ids=self.email_attachment_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.write(
            {
                "mail_message_id": message.id,
                "sent_body": body,
                "sent_checksum": hashlib.sha1(str(body).encode()).hexdigest(),
            }
        )

    def _schedule_call(self):
        self.ensure_one()
        thread = self._thread()
        user = self.case_id.user_id or self.env.user
        script = self.level_id.call_script or ""
        note = self.env._(
            "%(script)s\nAmount due: %(amount)s",
            script=script,
            amount=format_amount(self.env, self.amount_total, self.currency_id),
        )
        thread.activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=self.date,
            summary=self.env._("Call: %(level)s", level=self.level_id.name),
            note=note,
            user_id=user.id,
        )

    def _log_on_customer(self):
        self.ensure_one()
        channels = [
            label
            for flag, label in (
                (self.channel_email, self.env._("email")),
                (self.channel_letter, self.env._("letter")),
                (self.channel_phone, self.env._("phone call")),
            )
            if flag
        ]
        body = self.env._(
            "%(level)s (%(channels)s) for %(amount)s over %(count)s item(s).",
            level=self.level_id.name,
            channels=", ".join(channels),
            amount=format_amount(self.env, self.amount_total, self.currency_id),
            count=len(self.line_ids),
        )
        # sudo: every contact is logged on the customer, also when the collector
        # who sends it may not edit customers; the author stays the current user.
        self.partner_id.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")
        if self.case_id and not self.channel_email:
            self.case_id.message_post(body=body, subtype_xmlid="mail.mt_note")

    # === ESCALATION === #
    @api.model
    def _run_escalation(
        self, companies, partners=None, limit=None, dry_run=False, send=True, batch_size=None
    ):
        """Shortcut to the engine (``debt.recovery.escalation``) for callers
        that work from communications: the preview with ``dry_run``, else
        ``(done, remaining)``, or None when another run holds the lock."""
        Escalation = self.env["debt.recovery.escalation"]
        if dry_run:
            return Escalation._preview(companies, partners=partners, limit=limit)
        result = Escalation._run(
            companies, partners=partners, limit=limit, send=send, batch_size=batch_size
        )
        return None if result.locked else (result.done, result.remaining)

    @api.model
    def _cron_send_queued(self):
        """Send the communications the escalation queued, a batch at a time.

        Each is sent once: its state leaves "To Send" in the same transaction
        as the email it queues, and the batch is locked while it is sent, so
        that two workers (the two send crons, or a run started by hand) share
        the queue instead of both taking the same communications. Each is
        sent in its own savepoint (``_send``): one that fails is marked
        "Failed" with its reason, and left for a collector to retry; what
        remains counts only those still to send, so that the cron never comes
        back for the failed ones.
        """
        # Rows another worker is sending are skipped, not waited for: two
        # send crons share the queue (``ir_cron_debt_recovery_send_2``).
        query = self._search([("state", "=", "queued")], limit=SEND_BATCH_SIZE, order="id")
        rows = self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))
        queued = self.browse(row[0] for row in rows)
        queued._send()
        # Failed and cancelled ones are no longer "To Send": not retried by the cron.
        remaining = self.search_count([("state", "=", "queued")])
        self.env["ir.cron"]._notify_progress(done=len(queued), remaining=remaining)
