from odoo import fields, models

from ..models.debt_recovery_legal_action import LEGAL_OUTCOMES


class DebtRecoveryLegalClose(models.TransientModel):
    _name = "debt.recovery.legal.close"
    _description = "Close a Legal Action"

    legal_action_id = fields.Many2one(
        comodel_name="debt.recovery.legal.action", string="Legal Action", required=True
    )
    outcome = fields.Selection(selection=LEGAL_OUTCOMES, required=True)

    def action_close(self):
        self.ensure_one()
        self.legal_action_id.action_close(self.outcome)
        return {"type": "ir.actions.act_window_close"}
