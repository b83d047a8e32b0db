from odoo import api, fields, models
from odoo.exceptions import UserError


class DebtRecoveryEscalationRun(models.TransientModel):
    _name = "debt.recovery.escalation.run"
    _description = "Run the Recovery Escalation Now"

    company_ids = fields.Many2many(
        comodel_name="res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.companies,
    )
    line_ids = fields.One2many(
        comodel_name="debt.recovery.escalation.run.line",
        inverse_name="run_id",
        string="Preview",
        readonly=True,
    )
    preview_count = fields.Integer(compute="_compute_preview_count")

    @api.depends("line_ids")
    def _compute_preview_count(self):
        for run in self:
            run.preview_count = len(run.line_ids)

    def action_preview(self):
        """Dry run: what the escalation would send now, nothing is written."""
        self.ensure_one()
        plans = self.env["debt.recovery.communication"]._run_escalation(
            self.company_ids, dry_run=True
        )
        self.line_ids = [fields.Command.clear()] + [
            fields.Command.create(
                {
                    "partner_id": plan["customer"].id,
                    "company_id": plan["company"].id,
                    "level_id": plan["level"].id,
                    "currency_id": plan["currency"].id,
                    "amount": plan["amount"],
                    "item_count": len(plan["items"]),
                    "channels": ", ".join(
                        label
                        for flag, label in (
                            (plan["email"], self.env._("Email")),
                            (plan["letter"], self.env._("Letter")),
                            (plan["phone"], self.env._("Phone")),
                        )
                        if flag
                    ),
                    "needs_approval": plan["level"].needs_approval,
                }
            )
            for plan in plans
        ]
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_run(self):
        self.ensure_one()
        Communication = self.env["debt.recovery.communication"]
        result = Communication._run_escalation(self.company_ids)
        if result is None:
            raise UserError(self.env._("The escalation is already running. Try again in a moment."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Communications of Today"),
            "res_model": "debt.recovery.communication",
            "view_mode": "list,form",
            "domain": [
                ("date", "=", fields.Date.context_today(self)),
                ("company_id", "in", self.company_ids.ids),
            ],
        }


class DebtRecoveryEscalationRunLine(models.TransientModel):
    _name = "debt.recovery.escalation.run.line"
    _description = "Recovery Escalation Preview Line"

    run_id = fields.Many2one(
        comodel_name="debt.recovery.escalation.run", required=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer")
    company_id = fields.Many2one(comodel_name="res.company")
    level_id = fields.Many2one(comodel_name="debt.recovery.level", string="Level")
    currency_id = fields.Many2one(comodel_name="res.currency")
    amount = fields.Monetary(currency_field="currency_id")
    item_count = fields.Integer(string="Items")
    channels = fields.Char()
    needs_approval = fields.Boolean()
