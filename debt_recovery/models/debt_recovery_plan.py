from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount

from .account_move import credit_hold_exempt
from .debt_recovery_workflow_mixin import workflow_step

# Ten years of monthly instalments.
MAX_INSTALMENTS = 120
# An instalment late by more than a year breaks any plan.
MAX_GRACE_DAYS = 365


class DebtRecoveryPlan(models.Model):
    _name = "debt.recovery.plan"
    _description = "Payment Plan"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "debt.recovery.pause.mixin",
        "debt.recovery.number.mixin",
    ]
    _order = "date_agreement desc, id desc"
    _debt_pause_kind = "payment_plan"
    _debt_workflow_fields = (
        "state",
        "date_agreement",
        "date_acknowledgement",
        "date_closed",
        "fee_move_id",
    )

    # === FIELDS === #
    partner_id = fields.Many2one(required=True, domain="[('parent_id', '=', False)]", tracking=True)
    case_id = fields.Many2one(
        comodel_name="debt.recovery.case", string="Case", compute="_compute_case_id"
    )
    move_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        relation="debt_recovery_plan_move_line_rel",
        string="Covered Items",
        required=True,
        check_company=True,
    )
    currency_id = fields.Many2one(comodel_name="res.currency", required=True)
    amount_covered = fields.Monetary(
        string="Debt Covered",
        currency_field="currency_id",
        readonly=True,
        help="Open amount of the covered items when the plan was made.",
    )
    fee_amount = fields.Monetary(
        string="Interest / Fee",
        currency_field="currency_id",
        help="Added to the plan on top of the debt covered. Invoiced to the customer "
        "when the plan is activated (due with the last instalment), so that the "
        "customer's payments settle it.",
    )
    fee_move_id = fields.Many2one(
        comodel_name="account.move",
        string="Fee Invoice",
        readonly=True,
        copy=False,
        check_company=True,
        help="The customer invoice of the plan's interest or fee, covered by the plan.",
    )
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True, currency_field="currency_id"
    )
    amount_paid = fields.Monetary(
        string="Paid", compute="_compute_amount_paid", currency_field="currency_id"
    )
    amount_remaining = fields.Monetary(
        string="Remaining", compute="_compute_amount_paid", currency_field="currency_id"
    )
    instalment_ids = fields.One2many(
        comodel_name="debt.recovery.plan.instalment",
        inverse_name="plan_id",
        string="Instalments",
        copy=True,
    )
    grace_days = fields.Integer(
        default=5, help="Days an instalment may be late before the plan breaks."
    )
    resume_at = fields.Selection(
        selection=[("same", "The level it had reached"), ("next", "The next level")],
        string="On Breach, Resume At",
        default="same",
        required=True,
    )
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("proposed", "Proposed"),
            ("active", "Active"),
            ("completed", "Completed"),
            ("breached", "Breached"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        index=True,
    )
    date_agreement = fields.Date(string="Agreed On", readonly=True, tracking=True, copy=False)
    date_acknowledgement = fields.Date(
        string="Debt Acknowledged On",
        readonly=True,
        copy=False,
        help="The signed agreement acknowledges the debt (limitation periods restart).",
    )
    date_closed = fields.Date(readonly=True, copy=False)
    user_id = fields.Many2one(
        comodel_name="res.users", string="Agreed By", default=lambda s: s.env.user
    )
    note = fields.Text()

    # === COMPUTE METHODS === #
    @api.depends("partner_id", "amount_total")
    def _compute_name(self):
        for plan in self:
            plan.name = self.env._("Plan %(customer)s", customer=plan.partner_id.display_name or "")

    @api.depends("move_line_ids.debt_case_id")
    def _compute_case_id(self):
        for plan in self:
            plan.case_id = plan.move_line_ids.debt_case_id[:1]

    @api.depends("amount_covered", "fee_amount")
    def _compute_amounts(self):
        for plan in self:
            plan.amount_total = plan.amount_covered + plan.fee_amount

    @api.depends(
        "move_line_ids.amount_residual_currency",
        "move_line_ids.amount_currency",
        "amount_covered",
        "amount_total",
        "fee_move_id",
    )
    def _compute_amount_paid(self):
        for plan in self:
            # Once invoiced, the fee is one of the covered items.
            fee_lines = plan.move_line_ids.filtered_domain([("move_id", "=", plan.fee_move_id.id)])
            start = plan.amount_covered + sum(fee_lines.mapped("amount_currency"))
            residual = sum(plan.move_line_ids.mapped("amount_residual_currency"))
            paid = start - residual
            plan.amount_paid = paid
            plan.amount_remaining = plan.amount_total - paid

    # === CONSTRAINT METHODS === #
    @api.constrains("instalment_ids", "amount_total", "state")
    def _check_schedule(self):
        for plan in self.filtered(lambda p: p.state in ("draft", "proposed", "active")):
            if not plan.instalment_ids:
                raise ValidationError(self.env._("A payment plan needs at least one instalment."))
            if len(plan.instalment_ids) > MAX_INSTALMENTS:
                raise ValidationError(
                    self.env._(
                        "A payment plan has at most %(max)s instalments, not %(count)s.",
                        max=MAX_INSTALMENTS,
                        count=len(plan.instalment_ids),
                    )
                )
            if any(
                plan.currency_id.compare_amounts(i.amount, 0.0) <= 0 for i in plan.instalment_ids
            ):
                raise ValidationError(self.env._("Every instalment must be a positive amount."))
            total = sum(plan.instalment_ids.mapped("amount"))
            if plan.currency_id.compare_amounts(total, plan.amount_total) != 0:
                raise ValidationError(
                    self.env._(
                        "The instalments add up to %(schedule)s, "
                        "not to the plan's total %(total)s.",
                        schedule=format_amount(self.env, total, plan.currency_id),
                        total=format_amount(self.env, plan.amount_total, plan.currency_id),
                    )
                )

    @api.constrains("move_line_ids", "partner_id", "state", "grace_days", "fee_amount")
    def _check_items(self):
        for plan in self.filtered(lambda p: p.state in ("draft", "proposed", "active")):
            lines = plan.move_line_ids
            if plan.grace_days < 0 or plan.fee_amount < 0:
                raise ValidationError(self.env._("Grace days and fee cannot be negative."))
            if plan.grace_days > MAX_GRACE_DAYS:
                raise ValidationError(
                    self.env._("The grace period cannot exceed %(max)s days.", max=MAX_GRACE_DAYS)
                )
            if lines.company_id != plan.company_id:
                raise ValidationError(self.env._("A plan covers items of its own company only."))
            if len(lines.currency_id) > 1 or (lines and lines.currency_id != plan.currency_id):
                raise ValidationError(self.env._("A plan covers items in its one currency."))
            plan._debt_check_pause_items(lines)

    @api.constrains("amount_covered")
    def _check_amount_covered(self):
        for plan in self.filtered(lambda p: p.state in ("draft", "proposed")):
            currency = plan.currency_id
            open_amount = sum(
                plan.move_line_ids.filtered_domain([("move_id", "!=", plan.fee_move_id.id)]).mapped(
                    "amount_residual_currency"
                )
            )
            if currency.compare_amounts(plan.amount_covered, 0.0) <= 0:
                raise ValidationError(self.env._("A payment plan covers a positive debt."))
            if currency.compare_amounts(plan.amount_covered, open_amount) > 0:
                raise ValidationError(
                    self.env._(
                        "The plan covers %(covered)s, more than the %(open)s open on its items.",
                        covered=format_amount(self.env, plan.amount_covered, currency),
                        open=format_amount(self.env, open_amount, currency),
                    )
                )

    # === CRUD METHODS === #
    def write(self, vals):
        if "instalment_ids" in vals:
            for plan in self.filtered(lambda p: p.state == "active"):
                plan._log_schedule(self.env._("Rescheduled. Previous schedule:"))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_agreed(self):
        if any(plan.state not in ("draft", "proposed", "cancelled") for plan in self):
            raise UserError(self.env._("An agreed payment plan is a record: cancel it instead."))

    # === ACTION METHODS === #
    def action_propose(self):
        self._debt_ensure_workflow_access()
        if any(plan.state != "draft" for plan in self):
            raise UserError(self.env._("Only a draft plan can be proposed."))
        self._debt_write_state({"state": "proposed"})

    def action_activate(self):
        self._debt_ensure_workflow_access()
        today = fields.Date.context_today(self)
        for plan in self:
            if plan.state not in ("draft", "proposed"):
                raise UserError(self.env._("Only a draft or proposed plan can be activated."))
            if not plan.move_line_ids or not plan.instalment_ids:
                raise UserError(
                    self.env._(
                        "The plan %(plan)s needs the items it covers and its instalments "
                        "before the customer can agree to it.",
                        plan=plan.display_name,
                    )
                )
        self._debt_write_state(
            {"state": "active", "date_agreement": today, "date_acknowledgement": today}
        )
        for plan in self:
            note = self.env._(
                "Payment plan agreed: %(total)s in %(count)s instalments.",
                total=format_amount(self.env, plan.amount_total, plan.currency_id),
                count=len(plan.instalment_ids),
            )
            fee_note = plan._invoice_fee()
            plan._debt_start_pause(plan.move_line_ids, f"{note} {fee_note}".strip())

    def action_cancel(self):
        self._debt_ensure_workflow_access()
        if any(plan.state not in ("draft", "proposed", "active") for plan in self):
            raise UserError(self.env._("Only a draft, proposed or active plan can be cancelled."))
        for plan in self.filtered(lambda p: p.state == "active"):
            plan._end("cancelled")
        self.filtered(lambda p: p.state in ("draft", "proposed"))._debt_write_state(
            {"state": "cancelled"}
        )

    def action_reschedule(self):
        """Open the new schedule of an active plan, the current one to edit."""
        self.ensure_one()
        self._debt_ensure_workflow_access()
        if self.state != "active":
            raise UserError(self.env._("Only an active plan can be rescheduled."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reschedule %(plan)s", plan=self.display_name),
            "res_model": "debt.recovery.plan.reschedule",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_plan_id": self.id},
        }

    def action_print_agreement(self):
        return self.env.ref("debt_recovery.action_report_plan_agreement").report_action(self)

    # === BUSINESS METHODS === #
    def _log_schedule(self, title):
        self.ensure_one()
        rows = Markup().join(
            Markup("<li>%s: %s</li>")
            % (
                fields.Date.to_string(i.date_due),
                format_amount(self.env, i.amount, self.currency_id),
            )
            for i in self.instalment_ids
        )
        self.message_post(
            body=Markup("%s<ul>%s</ul>") % (title, rows), subtype_xmlid="mail.mt_note"
        )

    def _reschedule(self, instalment_vals):
        """Replace the schedule of an active plan (the previous one stays on record)."""
        self.ensure_one()
        if self.state != "active":
            raise UserError(self.env._("Only an active plan can be rescheduled."))
        # The one way the schedule of an agreed plan changes (logged by ``write``).
        with workflow_step():
            self.write(
                {
                    "instalment_ids": [fields.Command.clear()]
                    + [fields.Command.create(vals) for vals in instalment_vals]
                }
            )

    def _ensure_schedule_editable(self):
        """Refuse a change of the instalments of plans out of draft: the
        customer was proposed or agreed that schedule. Rescheduling
        (``_reschedule``) replaces it, and keeps the previous one on record."""
        if self._debt_workflow_unlocked():
            return
        agreed = self.filtered(lambda plan: plan.state != "draft")
        if agreed:
            plan = agreed[0]
            raise UserError(
                self.env._(
                    "The instalments of %(plan)s (%(state)s) cannot be added, changed or "
                    "deleted: the customer was given this schedule. Reschedule the plan "
                    "(Reschedule, on an active plan) to change it; the previous schedule "
                    "stays on record.",
                    plan=plan.display_name,
                    state=dict(plan._fields["state"]._description_selection(self.env))[plan.state],
                )
            )

    @api.model
    def _cron_check_plans(self):
        self.search([("state", "=", "active")])._update_progress()

    def _update_progress(self):
        """Complete the plans paid in full, breach those with an instalment unpaid
        past the grace days, remind the customer of an instalment falling due."""
        today = fields.Date.context_today(self)
        for plan in self:
            # Paid in full is completed, never breached: also a plan whose items
            # are all settled (a fee that was never invoiced cannot be paid).
            if plan.currency_id.compare_amounts(plan.amount_remaining, 0.0) <= 0 or all(
                plan.move_line_ids.mapped("reconciled")
            ):
                plan._end("completed")
                continue
            limit = today - timedelta(days=plan.grace_days)
            late = plan.instalment_ids.filtered_domain([("date_due", "<", limit)]).filtered(
                lambda i: i.state != "paid"
            )
            if late:
                plan._end("breached")
                continue
            due_soon = plan.instalment_ids.filtered(
                lambda i: i.state != "paid"
                and not i.reminder_sent
                and today <= i.date_due <= today + timedelta(days=3)
            )
            for instalment in due_soon:
                plan._remind(instalment)

    def _remind(self, instalment):
        """Email the customer a few days before an instalment (once)."""
        self.ensure_one()
        contact = self.partner_id._debt_collections_contact()
        template = self.env.ref("debt_recovery.mail_template_plan_instalment_reminder")
        plan = self.with_context(
            mail_notify_force_send=False,
            instalment_amount=instalment.amount - instalment.amount_paid,
            instalment_date=fields.Date.to_string(instalment.date_due),
        )
        plan.message_post_with_source(
            template,
            subtype_xmlid="mail.mt_comment",
            message_type="comment",
            partner_ids=contact.ids if contact.email else [],
        )
        instalment._debt_write_state({"reminder_sent": True})

    def _invoice_fee(self):
        """Invoice the plan's interest or fee to the customer and cover the
        invoice by the plan; returns what to log ("" without a fee).

        A posted customer invoice in the plan's company and currency, dated
        today (the ORM moves its accounting date past a lock date, and refuses
        to post into a locked period), with one line without product on an
        income account, no tax (the amount is the one the customer agreed),
        due with the last instalment.
        """
        self.ensure_one()
        if self.fee_move_id or self.currency_id.compare_amounts(self.fee_amount, 0.0) <= 0:
            return ""
        company = self.company_id
        # sudo: a collector agrees plans without invoicing rights; the invoice
        # is made only from the plan's own agreed values.
        Move = self.env["account.move"].sudo().with_company(company)
        journal = (
            self.env["account.journal"]
            .sudo()
            .search(
                [*self.env["account.journal"]._check_company_domain(company), ("type", "=", "sale")]
            )
        )
        journal = (
            journal.filtered(lambda j: j.currency_id == self.currency_id)[:1]
            or (journal.filtered(lambda j: not j.currency_id)[:1])
        )
        account = journal.default_account_id
        if not account or account.account_type not in ("income", "income_other"):
            raise UserError(
                self.env._(
                    "The plan's fee cannot be invoiced: %(company)s needs a sales journal "
                    "with an income account (in %(currency)s or without a currency).",
                    company=company.display_name,
                    currency=self.currency_id.name,
                )
            )
        fiscal_position = (
            self.env["account.fiscal.position"]
            .sudo()
            .with_company(company)
            ._get_fiscal_position(self.partner_id)
        )
        today = fields.Date.context_today(self)
        label = self.env._(
            "Interest / fee of the payment plan agreed on %(date)s (%(count)s instalments)",
            date=fields.Date.to_string(self.date_agreement or today),
            count=len(self.instalment_ids),
        )
        invoice = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_id.id,
                "journal_id": journal.id,
                "currency_id": self.currency_id.id,
                "invoice_date": today,
                "invoice_date_due": max(self.instalment_ids.mapped("date_due")),
                "invoice_payment_term_id": False,
                "invoice_origin": self.name,
                "fiscal_position_id": fiscal_position.id,
                "invoice_line_ids": [
                    fields.Command.create(
                        {
                            "name": label,
                            "quantity": 1.0,
                            "price_unit": self.fee_amount,
                            "account_id": fiscal_position.map_account(account).id,
                            "tax_ids": [fields.Command.clear()],
                        }
                    )
                ],
            }
        )
        # The fee is part of debt the customer already owes and agreed to pay:
        # no new credit, so no credit hold applies.
        with credit_hold_exempt():
            invoice.action_post()
        fee_line = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self._debt_write_state(
            {"fee_move_id": invoice.id, "move_line_ids": [fields.Command.link(fee_line.id)]}
        )
        return self.env._(
            "Fee invoice %(invoice)s posted: %(amount)s, due on %(date)s.",
            invoice=invoice.name,
            amount=format_amount(self.env, invoice.amount_total, self.currency_id),
            date=fields.Date.to_string(invoice.invoice_date_due),
        )

    def _cancel_fee(self):
        """Cancelling the plan waives its fee if none of it was paid: a credit note
        reverses the fee invoice. A fee partly or wholly paid stays as it is
        (waiving the rest is a credit note the collector decides on); returns
        what to log."""
        self.ensure_one()
        invoice = self.fee_move_id.sudo()
        if not invoice or invoice.state != "posted":
            return ""
        if invoice.payment_state != "not_paid":
            return self.env._(
                "The fee invoice %(invoice)s is partly paid (%(residual)s of %(total)s still "
                "due): it stays on the customer's account. Issue a credit note from it to "
                "waive the rest.",
                invoice=invoice.name,
                residual=format_amount(self.env, invoice.amount_residual, invoice.currency_id),
                total=format_amount(self.env, invoice.amount_total, invoice.currency_id),
            )
        # sudo: as in _invoice_fee; the credit note only undoes the plan's own invoice.
        refund = invoice._reverse_moves(
            [
                {
                    "invoice_date": fields.Date.context_today(self),
                    "ref": self.env._("Payment plan cancelled: %(plan)s", plan=self.name),
                }
            ],
            cancel=True,
        )
        fee_lines = self.move_line_ids.filtered(lambda line: line.move_id == invoice)
        self.write({"move_line_ids": [fields.Command.unlink(line.id) for line in fee_lines]})
        return self.env._(
            "Fee invoice %(invoice)s reversed by the credit note %(refund)s: the fee is waived.",
            invoice=invoice.name,
            refund=refund.name,
        )

    def _debt_alert_user(self, case):
        """A breached plan is a recovery manager's call when nobody follows the case."""
        managers = self.env.ref("debt_recovery.group_debt_recovery_manager").users
        return (
            case.user_id
            or managers.filtered(lambda u: self.company_id in u.company_ids)[:1]
            or self.env.user
        )

    def _end(self, state):
        self.ensure_one()
        today = fields.Date.context_today(self)
        # Resuming at the next level: the plan's duration counts as waiting.
        paused = (
            (today - (self.date_agreement or today)).days
            if state != "breached" or self.resume_at == "same"
            else 0
        )
        messages = {
            "completed": self.env._("Payment plan completed."),
            "breached": self.env._(
                "Payment plan breached: an instalment is unpaid past the grace period. "
                "Reminders resume."
            ),
            "cancelled": self.env._("Payment plan cancelled. Reminders resume."),
        }
        fee_note = self._cancel_fee() if state == "cancelled" else ""
        note = f"{messages[state]} {fee_note}".strip()
        self.message_post(body=note, subtype_xmlid="mail.mt_note")
        case = self._debt_end_pause(
            state,
            note,
            paused,
            alert=self.env._("Payment plan breached") if state == "breached" else None,
        )
        if case:
            self.env["debt.recovery.case"].sudo()._sync_cases(self.partner_id)
