import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount
from odoo.tools.pdf import merge_pdf

_logger = logging.getLogger(__name__)

SEND_BATCH_SIZE = 100

COMMUNICATION_STATES = [
    ("queued", "To Send"),
    ("to_approve", "To Approve"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
]


class DebtRecoveryCommunication(models.Model):
    _name = "debt.recovery.communication"
    _description = "Recovery Communication"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

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
    state = fields.Selection(
        selection=COMMUNICATION_STATES,
        required=True,
        default="to_approve",
        tracking=True,
        index=True,
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
    failure_reason = fields.Text(readonly=True)
    skip_reason = fields.Text(readonly=True)
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
    def action_approve(self):
        pending = self.filtered(lambda c: c.state == "to_approve")
        if not pending:
            raise UserError(self.env._("Only communications waiting for approval can be approved."))
        pending.write({"approved_by_id": self.env.uid})
        pending._send()

    def action_skip(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Skip Communications"),
            "res_model": "debt.recovery.communication.skip",
            "view_mode": "form",
            "target": "new",
            "context": {"default_communication_ids": self.ids},
        }

    def _skip(self, reason):
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

    def action_print_letters(self):
        """Print the selected letters as one PDF and mark them as printed."""
        letters = self.filtered(lambda c: c.channel_letter).sorted(
            lambda c: (c.partner_id.name or "", c.id)
        )
        if not letters:
            raise UserError(self.env._("There is no letter in the selection."))
        attachment = self.env["ir.attachment"].create(
            {
                "name": self.env._(
                    "Recovery letters %(date)s.pdf", date=fields.Date.context_today(self)
                ),
                "raw": letters._render_letters_pdf(),
                "mimetype": "application/pdf",
            }
        )
        to_mark = letters.filtered(lambda c: c.letter_state == "to_print")
        if to_mark:
            to_mark.action_mark_printed()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    def _render_letters_pdf(self):
        """One PDF with every letter.

        Letters on the standard letter are printed a company at a time, each
        batch as one document (one wkhtmltopdf call, the letters on new pages):
        wkhtmltopdf builds without patched Qt (Debian's) cannot render several
        documents in one call. Letters of a level with its own report are
        rendered one by one and merged after them.
        """
        default = self.env.ref("debt_recovery.action_report_recovery_letter")
        batch_report = self.env.ref("debt_recovery.action_report_recovery_letters_batch")
        Report = self.env["ir.actions.report"]
        standard = self.filtered(lambda c: c.level_id.report_id in (default, Report))
        pdfs = []
        for company in standard.company_id:
            letters = standard.filtered(lambda c, company=company: c.company_id == company)
            pdf, _fmt = Report.with_company(company)._render_qweb_pdf(
                batch_report, res_ids=None, data={"letter_ids": letters.ids}
            )
            pdfs.append(pdf)
        for letter in self - standard:
            pdf, _fmt = Report._render_qweb_pdf(letter.level_id.report_id, letter.ids)
            pdfs.append(pdf)
        return pdfs[0] if len(pdfs) == 1 else merge_pdf(pdfs)

    def action_mark_printed(self):
        letters = self.filtered(lambda c: c.letter_state == "to_print")
        if not letters:
            raise UserError(self.env._("There is no letter to print in the selection."))
        letters.write({"letter_state": "printed"})
        for comm in letters:
            comm._thread().message_post(
                body=self.env._("Letter %(level)s printed and posted.", level=comm.level_id.name),
                subtype_xmlid="mail.mt_note",
            )

    # === BUSINESS METHODS === #
    def _send(self):
        """Send through each channel of the level; the record says what happened.

        Only communications not sent yet are sent: never twice."""
        for comm in self.filtered(lambda c: c.state in ("queued", "to_approve")):
            level = comm.level_id
            if comm.channel_email:
                comm._send_email()
            if comm.channel_letter:
                comm.letter_state = "to_print"
            if comm.channel_phone:
                comm._schedule_call()
            comm.state = "sent"
            comm._log_on_customer()
            comm.case_id._escalate_stage(level.stage_id)

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

    def _send_email(self):
        self.ensure_one()
        template = self.level_id.mail_template_id
        lang = self.contact_id.lang or self.partner_id.lang or self.env.lang
        rendered = template.with_context(lang=lang)._generate_template(
            self.ids,
            ("subject", "body_html", "email_from", "attachment_ids", "report_template_ids"),
        )[self.id]
        attachments = []
        report = self.level_id.report_id
        if report:
            pdf, _fmt = (
                self.env["ir.actions.report"]
                .with_context(lang=lang)
                ._render_qweb_pdf(report, self.ids)
            )
            attachments.append((f"{self.level_id.name} - {self.partner_id.name}.pdf", pdf))
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
            body=rendered.get("body_html"),
            email_from=rendered.get("email_from") or None,
            partner_ids=self.contact_id.ids,
            attachments=attachments,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.mail_message_id = message

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
        as the email it queues.
        """
        queued = self.search([("state", "=", "queued")], limit=SEND_BATCH_SIZE, order="id")
        queued._send()
        remaining = self.search_count([("state", "=", "queued")])
        self.env["ir.cron"]._notify_progress(done=len(queued), remaining=remaining)
