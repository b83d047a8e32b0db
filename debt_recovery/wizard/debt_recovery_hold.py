from odoo import fields, models


class DebtRecoveryHold(models.TransientModel):
    _name = "debt.recovery.hold"
    _description = "Set, Release or Override a Credit Hold"

    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer", required=True)
    action = fields.Selection(
        selection=[
            ("hold", "Put on hold"),
            ("release", "Release the hold"),
            ("override", "Grant a one-off override"),
        ],
        required=True,
        default="hold",
    )
    reason = fields.Text(required=True)

    def action_apply(self):
        self.ensure_one()
        self.partner_id._debt_set_hold(self.action, self.reason)
        return {"type": "ir.actions.act_window_close"}
