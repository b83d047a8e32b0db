from odoo import api, fields, models

# What the customer agreed to: the schedule of a plan out of draft.
SCHEDULE_FIELDS = ("plan_id", "date_due", "amount", "sequence")


class DebtRecoveryPlanInstalment(models.Model):
    _name = "debt.recovery.plan.instalment"
    _inherit = ["debt.recovery.workflow.mixin", "debt.recovery.number.mixin"]
    _description = "Payment Plan Instalment"
    _debt_workflow_fields = ("reminder_sent",)
    _order = "plan_id, date_due, sequence, id"

    plan_id = fields.Many2one(
        comodel_name="debt.recovery.plan", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(default=10)
    date_due = fields.Date(string="Due Date", required=True)
    amount = fields.Monetary(required=True, currency_field="currency_id")
    amount_paid = fields.Monetary(
        string="Paid", compute="_compute_amount_paid", currency_field="currency_id"
    )
    state = fields.Selection(
        selection=[("open", "Open"), ("partial", "Partly Paid"), ("paid", "Paid")],
        compute="_compute_amount_paid",
    )
    reminder_sent = fields.Boolean(readonly=True, copy=False)

    # === COMPUTE METHODS === #
    @api.depends("amount", "plan_id.amount_paid", "plan_id.instalment_ids.amount")
    def _compute_amount_paid(self):
        """What the customer paid on the plan, allocated in due-date order:
        an overpayment rolls forward, a refund or unreconcile takes it back."""
        for plan in self.plan_id:
            available = plan.amount_paid
            for instalment in plan.instalment_ids.sorted(lambda i: (i.date_due, i.sequence, i.id)):
                paid = min(instalment.amount, max(available, 0.0))
                available -= paid
                instalment.amount_paid = paid
                if plan.currency_id.compare_amounts(paid, instalment.amount) >= 0:
                    instalment.state = "paid"
                elif plan.currency_id.is_zero(paid):
                    instalment.state = "open"
                else:
                    instalment.state = "partial"
        for instalment in self.filtered(lambda i: not i.plan_id):
            instalment.amount_paid = 0.0
            instalment.state = "open"

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        plan_ids = {vals["plan_id"] for vals in vals_list if vals.get("plan_id")}
        self.env["debt.recovery.plan"].browse(plan_ids)._ensure_schedule_editable()
        return super().create(vals_list)

    def write(self, vals):
        if any(fname in vals for fname in SCHEDULE_FIELDS):
            plans = self.plan_id
            if vals.get("plan_id"):
                plans |= plans.browse(vals["plan_id"])
            plans._ensure_schedule_editable()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_agreed_schedule(self):
        self.plan_id._ensure_schedule_editable()
