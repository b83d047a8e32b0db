from odoo import api, fields, models
from odoo.exceptions import UserError


class DebtRecoveryChargeWaive(models.TransientModel):
    """A recovery manager waives what a case's customer owes in interest
    and costs, or reverses a charge, with the reason on record."""

    _name = "debt.recovery.charge.waive"
    _description = "Waive or Reverse Interest and Costs"

    case_id = fields.Many2one(comodel_name="debt.recovery.case", required=True, readonly=True)
    charge_id = fields.Many2one(
        comodel_name="debt.recovery.charge",
        string="Charge to Reverse",
        domain="[('case_id', '=', case_id), ('state', '=', 'posted')]",
        help="Empty: waive what has accrued and was not charged yet.",
    )
    reason = fields.Text(required=True)

    @api.model
    def _debt_ensure_manager(self):
        if not self.env.user.has_group("debt_recovery.group_debt_recovery_manager"):
            raise UserError(
                self.env._("Only a recovery manager can waive or reverse interest and costs.")
            )

    def action_confirm(self):
        self.ensure_one()
        self._debt_ensure_manager()
        self.case_id.check_access("write")
        Charge = self.env["debt.recovery.charge"].sudo()
        if self.charge_id:
            self.charge_id.sudo().action_reverse(reason=self.reason)
        else:
            Charge._debt_waive_case(self.case_id, self.reason)
        return {"type": "ir.actions.act_window_close"}
