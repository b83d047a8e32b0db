from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError


class DebtRecoveryStageChange(models.TransientModel):
    _name = "debt.recovery.stage.change"
    _description = "Change the Stage of Recovery Cases"

    case_ids = fields.Many2many(
        comodel_name="debt.recovery.case",
        string="Cases",
        required=True,
    )
    stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="New Stage",
        required=True,
    )
    reason = fields.Text(required=True)

    def action_apply(self):
        self.ensure_one()
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the stage changes: the reason is required."))
        cases = self.case_ids.filtered(lambda case: case.stage_id != self.stage_id)
        if not cases:
            raise UserError(
                self.env._(
                    "The selected cases are already in the stage %(stage)s.",
                    stage=self.stage_id.display_name,
                )
            )
        cases.write({"stage_id": self.stage_id.id})
        body = Markup("%s<br/>%s") % (
            self.env._("Stage changed to %(stage)s.", stage=self.stage_id.display_name),
            self.env._("Reason: %(reason)s", reason=reason),
        )
        for case in cases:
            case.message_post(body=body, subtype_xmlid="mail.mt_note")
        return {"type": "ir.actions.act_window_close"}
