from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import clean_context, format_amount

from ..models.debt_recovery_plan import MAX_GRACE_DAYS, MAX_INSTALMENTS

FREQUENCIES = [
    ("weekly", "Weekly"),
    ("biweekly", "Every Two Weeks"),
    ("monthly", "Monthly"),
    ("custom", "Custom Dates"),
]
STEPS = {
    "weekly": relativedelta(weeks=1),
    "biweekly": relativedelta(weeks=2),
    "monthly": relativedelta(months=1),
}


class DebtRecoveryPlanWizard(models.TransientModel):
    _name = "debt.recovery.plan.wizard"
    _inherit = ["debt.recovery.number.mixin"]
    _description = "Agree a Payment Plan"

    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True, readonly=True
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, default=lambda s: s.env.company
    )
    move_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        relation="debt_recovery_plan_wizard_line_rel",
        string="Items Covered",
        compute="_compute_move_line_ids",
        store=True,
        readonly=False,
        domain="[('partner_id', 'child_of', partner_id), ('company_id', '=', company_id),"
        " ('account_type', '=', 'asset_receivable'), ('reconciled', '=', False),"
        " ('parent_state', '=', 'posted'), ('amount_residual', '>', 0)]",
    )
    currency_id = fields.Many2one(comodel_name="res.currency", compute="_compute_amounts")
    amount_covered = fields.Monetary(compute="_compute_amounts", currency_field="currency_id")
    fee_amount = fields.Monetary(string="Interest / Fee", currency_field="currency_id")
    amount_total = fields.Monetary(compute="_compute_amounts", currency_field="currency_id")
    down_payment = fields.Monetary(currency_field="currency_id")
    instalment_count = fields.Integer(string="Instalments", default=3)
    frequency = fields.Selection(selection=FREQUENCIES, default="monthly", required=True)
    first_date = fields.Date(
        required=True, default=lambda s: fields.Date.context_today(s) + relativedelta(days=7)
    )
    grace_days = fields.Integer(default=5)
    schedule_ids = fields.One2many(
        comodel_name="debt.recovery.plan.wizard.line",
        inverse_name="wizard_id",
        string="Schedule",
        compute="_compute_schedule_ids",
        store=True,
        readonly=False,
    )
    schedule_total = fields.Monetary(compute="_compute_amounts", currency_field="currency_id")

    # === COMPUTE METHODS === #
    @api.depends("partner_id", "company_id")
    def _compute_move_line_ids(self):
        for wizard in self:
            today = fields.Date.context_today(wizard)
            wizard.move_line_ids = self.env["account.move.line"].search(
                [
                    ("partner_id", "child_of", wizard.partner_id.commercial_partner_id.id),
                    ("company_id", "=", wizard.company_id.id),
                    *self.env["account.move.line"]._debt_open_domain(),
                    ("amount_residual", ">", 0),
                    ("date_maturity", "<", today),
                    ("debt_plan_id", "=", False),
                ]
            )

    @api.depends("move_line_ids", "fee_amount", "schedule_ids.amount")
    def _compute_amounts(self):
        for wizard in self:
            lines = wizard.move_line_ids
            wizard.currency_id = lines.currency_id[:1] or wizard.company_id.currency_id
            wizard.amount_covered = sum(lines.mapped("amount_residual_currency"))
            wizard.amount_total = wizard.amount_covered + wizard.fee_amount
            wizard.schedule_total = sum(wizard.schedule_ids.mapped("amount"))

    @api.depends(
        "move_line_ids", "fee_amount", "down_payment", "instalment_count", "frequency", "first_date"
    )
    def _compute_schedule_ids(self):
        for wizard in self:
            if wizard.frequency == "custom" and wizard.schedule_ids:
                continue
            wizard.schedule_ids = [fields.Command.clear()] + [
                fields.Command.create(vals) for vals in wizard._prepare_schedule()
            ]

    # === CONSTRAINT METHODS === #
    @api.constrains("instalment_count", "down_payment")
    def _check_instalment_count(self):
        """Checked when typed in (the rest when the plan is made, ``_ensure_bounds``)."""
        for wizard in self:
            if wizard._instalments_needed() > MAX_INSTALMENTS:
                wizard._ensure_bounds()

    # === BUSINESS METHODS === #
    def _ensure_bounds(self):
        """The numbers typed in are within what a plan allows (ValidationError)."""
        self.ensure_one()
        if self._instalments_needed() > MAX_INSTALMENTS:
            raise ValidationError(
                self.env._(
                    "A payment plan has at most %(max)s instalments (a down payment counts "
                    "as one), not %(count)s.",
                    max=MAX_INSTALMENTS,
                    count=self._instalments_needed(),
                )
            )
        if self.down_payment < 0 or self.fee_amount < 0:
            raise ValidationError(self.env._("The down payment and the fee cannot be negative."))
        if not 0 <= self.grace_days <= MAX_GRACE_DAYS:
            raise ValidationError(
                self.env._("The grace period is between 0 and %(max)s days.", max=MAX_GRACE_DAYS)
            )
        currency = self.currency_id or self.company_id.currency_id
        if (
            self.move_line_ids
            and currency.compare_amounts(self.down_payment, self.amount_covered) > 0
        ):
            raise ValidationError(
                self.env._(
                    "The down payment (%(down)s) cannot exceed the debt covered (%(open)s).",
                    down=format_amount(self.env, self.down_payment, currency),
                    open=format_amount(self.env, self.amount_covered, currency),
                )
            )

    def _instalments_needed(self):
        self.ensure_one()
        return self.instalment_count + (1 if self.down_payment > 0 else 0)

    def _prepare_schedule(self):
        """Instalments rounded in the currency; the last one takes the remainder,
        so that they add up exactly to the total."""
        self.ensure_one()
        currency = self.currency_id or self.company_id.currency_id
        count = self.instalment_count
        if count <= 0 or self._instalments_needed() > MAX_INSTALMENTS or not self.first_date:
            # Refused with its reason when the plan is made (``_ensure_bounds``).
            return []
        step = STEPS.get(self.frequency, STEPS["monthly"])
        schedule, date = [], self.first_date
        remaining = self.amount_total
        if self.down_payment > 0:
            schedule.append({"date_due": date, "amount": currency.round(self.down_payment)})
            remaining -= currency.round(self.down_payment)
            date = date + step
        base = currency.round(remaining / count)
        for index in range(count):
            amount = base if index < count - 1 else currency.round(remaining - base * (count - 1))
            schedule.append({"date_due": date + step * index, "amount": amount})
        return schedule

    def _ensure_valid_input(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        currency = self.currency_id
        if not self.move_line_ids:
            raise UserError(self.env._("Choose the overdue items the plan covers."))
        if self.instalment_count <= 0:
            raise UserError(self.env._("The number of instalments must be positive."))
        self._ensure_bounds()
        if currency.compare_amounts(self.down_payment, self.amount_total) >= 0:
            raise UserError(self.env._("The down payment must be less than the total."))
        if self.first_date < today or any(line.date_due < today for line in self.schedule_ids):
            raise UserError(self.env._("A new plan cannot have instalments in the past."))
        if any(currency.compare_amounts(line.amount, 0.0) <= 0 for line in self.schedule_ids):
            raise UserError(self.env._("Every instalment must be a positive amount."))
        if currency.compare_amounts(self.schedule_total, self.amount_total) != 0:
            raise UserError(
                self.env._(
                    "The instalments add up to %(schedule)s instead of %(total)s.",
                    schedule=format_amount(self.env, self.schedule_total, currency),
                    total=format_amount(self.env, self.amount_total, currency),
                )
            )

    def action_create_plan(self):
        """Create the plan the customer agreed to, and activate it."""
        plan = self._create_plan()
        plan.action_activate()
        return self._plan_form_action(plan)

    def action_create_proposal(self):
        plan = self._create_plan()
        plan.action_propose()
        return self._plan_form_action(plan)

    def _plan_form_action(self, plan):
        """The plan's form, without this wizard's defaults in its context."""
        action = plan.get_formview_action()
        action["context"] = clean_context(action["context"])
        return action

    def _create_plan(self):
        self._ensure_valid_input()
        return self.env["debt.recovery.plan"].create(
            {
                "partner_id": self.partner_id.commercial_partner_id.id,
                "company_id": self.company_id.id,
                "move_line_ids": [fields.Command.set(self.move_line_ids.ids)],
                "currency_id": self.currency_id.id,
                "amount_covered": self.amount_covered,
                "fee_amount": self.fee_amount,
                "grace_days": self.grace_days,
                "instalment_ids": [
                    fields.Command.create(
                        {"sequence": index, "date_due": line.date_due, "amount": line.amount}
                    )
                    for index, line in enumerate(self.schedule_ids.sorted("date_due"))
                ],
            }
        )


class DebtRecoveryPlanWizardLine(models.TransientModel):
    _name = "debt.recovery.plan.wizard.line"
    _inherit = ["debt.recovery.number.mixin"]
    _description = "Payment Plan Schedule Preview"
    _order = "date_due, id"

    wizard_id = fields.Many2one(
        comodel_name="debt.recovery.plan.wizard", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    date_due = fields.Date(string="Due Date", required=True)
    amount = fields.Monetary(required=True, currency_field="currency_id")
