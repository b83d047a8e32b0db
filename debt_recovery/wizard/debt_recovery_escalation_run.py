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
        drafts = self.env["debt.recovery.escalation"]._preview(self.company_ids)
        self.line_ids = [fields.Command.clear()] + [
            fields.Command.create(
                {
                    "partner_id": draft.customer.id,
                    "company_id": draft.company.id,
                    "level_id": draft.level.id,
                    "currency_id": draft.currency.id,
                    "amount_overdue": draft.amount_overdue,
                    "amount_credit": draft.amount_credit,
                    "amount": draft.amount,
                    "item_count": len(draft.items),
                    "channels": ", ".join(
                        label
                        for flag, label in (
                            (draft.email, self.env._("Email")),
                            (draft.letter, self.env._("Letter")),
                            (draft.phone, self.env._("Phone")),
                        )
                        if flag
                    ),
                    "needs_approval": draft.level.needs_approval,
                }
            )
            for draft in drafts
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
        result = self.env["debt.recovery.escalation"]._run(self.company_ids)
        if result.locked:
            raise UserError(
                self.env._(
                    "The escalation is running (the daily run or another user's). "
                    "Nothing was sent: try again in a moment."
                )
            )
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
    amount_overdue = fields.Monetary(string="Items Claimed", currency_field="currency_id")
    amount_credit = fields.Monetary(string="Credits", currency_field="currency_id")
    amount = fields.Monetary(string="Net Amount Due", currency_field="currency_id")
    item_count = fields.Integer(string="Items")
    channels = fields.Char()
    needs_approval = fields.Boolean()
