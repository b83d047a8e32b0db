from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount


class DebtRecoveryPlan(models.Model):
    _name = "debt.recovery.plan"
    _description = "Payment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_agreement desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, index=True, default=lambda s: s.env.company
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        domain="[('parent_id', '=', False)]",
        tracking=True,
    )
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
        help="Added to the plan on top of the debt covered.",
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

    @api.depends("move_line_ids.amount_residual_currency", "amount_covered", "amount_total")
    def _compute_amount_paid(self):
        for plan in self:
            residual = sum(plan.move_line_ids.mapped("amount_residual_currency"))
            paid = plan.amount_covered - residual
            plan.amount_paid = paid
            plan.amount_remaining = plan.amount_total - paid

    # === CONSTRAINT METHODS === #
    @api.constrains("instalment_ids", "amount_total", "state")
    def _check_schedule(self):
        for plan in self.filtered(lambda p: p.state in ("draft", "proposed", "active")):
            if not plan.instalment_ids:
                raise ValidationError(self.env._("A payment plan needs at least one instalment."))
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
            if not lines._debt_are_open_items_of(plan.partner_id):
                raise ValidationError(
                    self.env._("A plan covers open receivable items of its own customer only.")
                )
            if lines.company_id != plan.company_id:
                raise ValidationError(self.env._("A plan covers items of its own company only."))
            if len(lines.currency_id) > 1 or (lines and lines.currency_id != plan.currency_id):
                raise ValidationError(self.env._("A plan covers items in its one currency."))
            taken = lines.debt_plan_id - plan
            if taken:
                raise ValidationError(
                    self.env._(
                        "These items are already in the payment plan %(plan)s.",
                        plan=taken[0].display_name,
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
        self.filtered(lambda p: p.state == "draft").write({"state": "proposed"})

    def action_activate(self):
        today = fields.Date.context_today(self)
        for plan in self:
            if plan.state not in ("draft", "proposed"):
                raise UserError(self.env._("Only a draft or proposed plan can be activated."))
        self.write({"state": "active", "date_agreement": today, "date_acknowledgement": today})
        for plan in self:
            plan.move_line_ids.sudo().write({"debt_plan_id": plan.id})
            case = plan.case_id
            if case:
                case._pause_stage("payment_plan")
                case.message_post(
                    body=self.env._(
                        "Payment plan agreed: %(total)s in %(count)s instalments.",
                        total=format_amount(self.env, plan.amount_total, plan.currency_id),
                        count=len(plan.instalment_ids),
                    ),
                    subtype_xmlid="mail.mt_note",
                )

    def action_cancel(self):
        for plan in self.filtered(lambda p: p.state == "active"):
            plan._end("cancelled")
        self.filtered(lambda p: p.state in ("draft", "proposed")).write({"state": "cancelled"})

    def _get_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
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
        self.write(
            {
                "instalment_ids": [fields.Command.clear()]
                + [fields.Command.create(vals) for vals in instalment_vals]
            }
        )

    @api.model
    def _cron_check_plans(self):
        self.search([("state", "=", "active")])._check_progress()

    def _check_progress(self):
        today = fields.Date.context_today(self)
        for plan in self:
            if plan.currency_id.compare_amounts(plan.amount_remaining, 0.0) <= 0:
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
        instalment.reminder_sent = True

    def _end(self, state):
        self.ensure_one()
        today = fields.Date.context_today(self)
        # Resuming at the next level: the plan's duration counts as waiting.
        paused = (
            (today - (self.date_agreement or today)).days
            if state != "breached" or self.resume_at == "same"
            else 0
        )
        self.move_line_ids._debt_end_pause(self, paused)
        self.write({"state": state, "date_closed": today})
        case = self.case_id
        messages = {
            "completed": self.env._("Payment plan completed."),
            "breached": self.env._(
                "Payment plan breached: an instalment is unpaid past the grace period. "
                "Reminders resume."
            ),
            "cancelled": self.env._("Payment plan cancelled. Reminders resume."),
        }
        self.message_post(body=messages[state], subtype_xmlid="mail.mt_note")
        if case:
            case.message_post(body=messages[state], subtype_xmlid="mail.mt_note")
            case._resume_stage("payment_plan")
            if state == "breached":
                managers = self.env.ref("debt_recovery.group_debt_recovery_manager").users
                user = (
                    case.user_id
                    or managers.filtered(lambda u: self.company_id in u.company_ids)[:1]
                )
                case.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Payment plan breached"),
                    note=messages[state],
                    user_id=(user or self.env.user).id,
                )
            self.env["debt.recovery.case"].sudo()._sync_cases(self.partner_id)
