import logging
from collections import defaultdict

from odoo import api, fields, models, modules, tools
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount
from odoo.tools.pdf import merge_pdf

from ..tools import bulk_create

_logger = logging.getLogger(__name__)

ESCALATION_LOCK = "debt_recovery_escalation"
BATCH_SIZE = 500
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
    def _cron_escalate(self):
        """Daily: every company's items reaching a new level get their communication.

        The levels are computed once for all customers; the communications are
        then created and committed a batch of customers at a time, so that a
        run killed in the middle keeps what it did and the next run resumes.
        """
        companies = self.env["res.company"].search([])
        result = self._run_escalation(companies, send=False, batch_size=BATCH_SIZE)
        if result is None:
            return
        done, remaining = result
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        self.env.ref("debt_recovery.ir_cron_debt_recovery_send")._trigger()

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

    @api.model
    def _run_escalation(
        self, companies, partners=None, limit=None, dry_run=False, send=True, batch_size=None
    ):
        """Create today's communications.

        Exactly once: a transaction-level advisory lock keeps two runs apart, and
        a unique (item, level) constraint refuses any second communication of a
        level for an item, whatever happens.

        With ``send`` False (the daily cron), communications are queued and a
        second cron sends them, so that this run costs a fixed number of queries
        per batch of customers.

        With ``batch_size`` (the daily cron), each batch of that many customers
        is committed before the next one (outside tests) and the lock taken
        again; the run stops if another run took it in between.

        :return: ``(done, remaining)`` customers, or the preview with ``dry_run``;
                 None when another run holds the lock.
        """
        today = fields.Date.context_today(self)
        if not dry_run and not self._escalation_lock():
            _logger.info("Recovery escalation already running: skipped.")
            return None
        targets = self.env["account.move.line"]._debt_escalation_targets(
            today, companies, partners=partners
        )
        groups = defaultdict(list)
        for item in targets:
            groups[item.customer_id, item.company_id, item.currency_id].append(item)
        keys = sorted(groups, key=lambda k: (k[1], k[0], k[2]))
        todo = keys[:limit] if limit else keys
        # The customers, companies and currencies, browsed together (prefetch).
        Partner, Company = self.env["res.partner"], self.env["res.company"]
        records = [
            {record.id: record for record in model.browse({key[index] for key in todo})}
            for index, model in enumerate((Partner, Company, self.env["res.currency"]))
        ]
        # Only what the communications need (a partner has a hundred columns).
        customers = Partner.browse(records[0])
        customers.fetch(["complete_name", "email", "child_ids"])
        customers.child_ids.fetch(["type", "email"])
        plans = []
        for customer_id, company_id, currency_id in todo:
            plan = self._prepare_communication(
                (records[0][customer_id], records[1][company_id], records[2][currency_id]),
                groups[customer_id, company_id, currency_id],
                today,
            )
            if plan:
                plans.append(plan)
        if dry_run:
            return plans
        # The cases, looked up (and the missing ones opened) once for the run:
        # a lookup per batch would scan the growing table of cases each time.
        case_of = (
            self.env["debt.recovery.case"]
            .sudo()
            ._open_cases_of([(plan["customer"], plan["company"]) for plan in plans])
        )
        if not batch_size:
            self._create_communications(plans, today, send=send, case_of=case_of)
            return len(todo), len(keys) - len(todo)
        # Never inside tests (Odoo's own idiom, as account's auto-post cron).
        auto_commit = not tools.config["test_enable"] and not modules.module.current_test
        done = 0
        for start in range(0, len(plans), batch_size):
            if start and auto_commit:
                # Each batch of the daily cron is kept, as the docstring says.
                self.env.cr.commit()  # pylint: disable=invalid-commit
                if not self._escalation_lock():
                    _logger.info("Recovery escalation: another run took over.")
                    break
            batch = plans[start : start + batch_size]
            self._create_communications(batch, today, send=send, case_of=case_of)
            done += len(batch)
        return done, len(plans) - done

    def _escalation_lock(self):
        """Take the escalation's transaction lock; False if another run holds it."""
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(hashtext(%s))", ESCALATION_LOCK))
        return self.env.cr.fetchone()[0]

    @api.model
    def _prepare_communication(self, key, items, today):
        """What to send one customer in one currency; None below the tolerance.

        ``items`` are the customer's ``EscalationItem`` in that currency.
        """
        customer, company, currency = key
        level = max((item.level for item in items), key=lambda lv: (lv.days, lv.sequence))
        overdue = sum(item.amount_residual for item in items)
        if company.currency_id.compare_amounts(overdue, level.min_amount) < 0:
            return None
        contact = customer._debt_collections_contact()
        email = level.channel_email and bool(contact.email)
        letter = level.channel_letter or (level.channel_email and not contact.email)
        return {
            "customer": customer,
            # The customer's display name without its per-record compute (a
            # commercial partner's is its stored complete name), read now:
            # the commit after each batch empties the cache.
            "customer_name": customer.complete_name or customer.display_name,
            "company": company,
            "currency": currency,
            "level": level,
            "contact": contact,
            "email": email,
            "letter": letter,
            "phone": level.channel_phone,
            "amount": sum(item.amount_residual_currency for item in items),
            "items": items,
        }

    @api.model
    def _create_communications(self, plans, today, send=True, case_of=None):
        """Create the communications of ``plans`` (``_prepare_communication``).

        :param case_of: {(customer id, company id): open case id}, when the
                        caller already has them.
        """
        if not plans:
            return self.browse()
        if case_of is None:
            # The cases (one per customer and company), opened if missing, in one go.
            case_of = (
                self.env["debt.recovery.case"]
                .sudo()
                ._open_cases_of([(plan["customer"], plan["company"]) for plan in plans])
            )
        # In one INSERT each (no creation message, no followers): a
        # communication logs itself on the case and the customer when sent.
        comms = bulk_create(
            self,
            [
                {
                    "name": f"{plan['level'].name} - {plan['customer_name']}",
                    "amount_total": plan["currency"].round(plan["amount"]),
                    "company_id": plan["company"].id,
                    "case_id": case_of.get((plan["customer"].id, plan["company"].id)),
                    "partner_id": plan["customer"].id,
                    "contact_id": plan["contact"].id,
                    "currency_id": plan["currency"].id,
                    "level_id": plan["level"].id,
                    "date": today,
                    "state": "to_approve" if plan["level"].needs_approval else "queued",
                    "channel_email": plan["email"],
                    "channel_letter": plan["letter"],
                    "channel_phone": plan["phone"],
                }
                for plan in plans
            ],
            # The cases and levels were selected in the communication's company.
            check_company=False,
        )
        bulk_create(
            self.env["debt.recovery.communication.line"],
            [
                {
                    "communication_id": comm.id,
                    "company_id": plan["company"].id,
                    "move_line_id": item.line_id,
                    "level_id": item.level.id,
                    "level_date": today,
                    "currency_id": item.currency_id,
                    "date_maturity": item.date_maturity,
                    "days_overdue": (today - item.date_maturity).days,
                    "amount_residual_currency": item.amount_residual_currency,
                }
                for comm, plan in zip(comms, plans, strict=True)
                for item in plan["items"]
            ],
            # The items were selected in the communication's company.
            check_company=False,
        )
        # Their totals came with the communications: not computed again.
        self.env.remove_to_compute(self._fields["amount_total"], comms)
        if send:
            comms.filtered(lambda c: c.state == "queued")._send()
        return comms
