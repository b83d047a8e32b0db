from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount


class DebtRecoveryPlanReschedule(models.TransientModel):
    """The one way to change the schedule of an agreed (active) plan: the
    new schedule replaces the old one, which stays on the plan's record."""

    _name = "debt.recovery.plan.reschedule"
    _description = "Reschedule a Payment Plan"

    plan_id = fields.Many2one(
        comodel_name="debt.recovery.plan", string="Plan", required=True, readonly=True
    )
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount_total = fields.Monetary(related="plan_id.amount_total", currency_field="currency_id")
    amount_paid = fields.Monetary(related="plan_id.amount_paid", currency_field="currency_id")
    line_ids = fields.One2many(
        comodel_name="debt.recovery.plan.reschedule.line",
        inverse_name="wizard_id",
        string="New Schedule",
    )
    schedule_total = fields.Monetary(
        compute="_compute_schedule_total", currency_field="currency_id"
    )

    # === DEFAULT METHODS === #
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        plan = self.env["debt.recovery.plan"].browse(values.get("plan_id"))
        if plan and "line_ids" in fields_list and not values.get("line_ids"):
            values["line_ids"] = [
                Command.create({"date_due": instalment.date_due, "amount": instalment.amount})
                for instalment in plan.instalment_ids
            ]
        return values

    # === COMPUTE METHODS === #
    @api.depends("line_ids.amount")
    def _compute_schedule_total(self):
        for wizard in self:
            wizard.schedule_total = sum(wizard.line_ids.mapped("amount"))

    # === ACTION METHODS === #
    def action_reschedule(self):
        self.ensure_one()
        plan = self.plan_id
        plan._debt_ensure_workflow_access()
        if plan.state != "active":
            raise UserError(self.env._("Only an active plan can be rescheduled."))
        if plan.currency_id.compare_amounts(self.schedule_total, plan.amount_total) != 0:
            raise UserError(
                self.env._(
                    "The new schedule adds up to %(schedule)s: the plan's total is %(total)s.",
                    schedule=format_amount(self.env, self.schedule_total, plan.currency_id),
                    total=format_amount(self.env, plan.amount_total, plan.currency_id),
                )
            )
        plan._reschedule(
            [
                {"sequence": index, "date_due": line.date_due, "amount": line.amount}
                for index, line in enumerate(
                    self.line_ids.sorted(lambda row: (row.date_due, row.id))
                )
            ]
        )
        return {"type": "ir.actions.act_window_close"}


class DebtRecoveryPlanRescheduleLine(models.TransientModel):
    _name = "debt.recovery.plan.reschedule.line"
    _inherit = ["debt.recovery.number.mixin"]
    _description = "Payment Plan New Schedule"
    _order = "date_due, id"

    wizard_id = fields.Many2one(
        comodel_name="debt.recovery.plan.reschedule", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    date_due = fields.Date(string="Due Date", required=True)
    amount = fields.Monetary(required=True, currency_field="currency_id")
