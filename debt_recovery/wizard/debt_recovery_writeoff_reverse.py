from odoo import fields, models


class DebtRecoveryWriteoffReverse(models.TransientModel):
    """A recovery manager reverses a write-off made by mistake, with the
    reason on record: the items are owed again."""

    _name = "debt.recovery.writeoff.reverse"
    _description = "Reverse a Write-Off"

    writeoff_id = fields.Many2one(
        comodel_name="debt.recovery.writeoff", required=True, readonly=True
    )
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.writeoff_id._debt_reverse(self.reason)
        return {"type": "ir.actions.act_window_close"}
