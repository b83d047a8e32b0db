from odoo import fields, models


class DebtRecoveryCommunicationSkip(models.TransientModel):
    _name = "debt.recovery.communication.skip"
    _description = "Skip Recovery Communications"

    communication_ids = fields.Many2many(
        comodel_name="debt.recovery.communication",
        relation="debt_recovery_communication_skip_rel",
        string="Communications",
        required=True,
    )
    reason = fields.Text(required=True)

    def action_skip(self):
        self.ensure_one()
        self.communication_ids._skip(self.reason)
        return {"type": "ir.actions.act_window_close"}
