from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError

CALL_OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No answer / voicemail"),
    ("promised", "Promised to pay"),
    ("refused", "Refused to pay"),
    ("wrong_number", "Wrong number"),
]


class DebtRecoveryCallLog(models.TransientModel):
    _name = "debt.recovery.call.log"
    _description = "Log a Call on a Recovery Case"

    case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Case",
        required=True,
    )
    partner_id = fields.Many2one(related="case_id.partner_id")
    contact_id = fields.Many2one(
        comodel_name="res.partner",
        string="Person Called",
        domain="[('commercial_partner_id', '=', partner_id)]",
    )
    outcome = fields.Selection(selection=CALL_OUTCOMES, required=True, default="reached")
    note = fields.Text()
    next_action_date = fields.Date()
    next_action_note = fields.Text(string="Next Action")

    def action_log(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.next_action_date and self.next_action_date < today:
            raise UserError(self.env._("The next action cannot be planned in the past."))
        case = self.case_id
        outcome = dict(self._fields["outcome"]._description_selection(self.env))[self.outcome]
        lines = [self.env._("Call logged: %(outcome)s", outcome=outcome)]
        if self.contact_id:
            lines.append(self.env._("Person called: %(name)s", name=self.contact_id.display_name))
        if self.note:
            lines.append(self.note)
        if self.next_action_date:
            lines.append(
                self.env._(
                    "Next action on %(date)s: %(note)s",
                    date=fields.Date.to_string(self.next_action_date),
                    note=self.next_action_note or "",
                )
            )
        body = Markup("<br/>").join(lines)
        case.message_post(body=body, subtype_xmlid="debt_recovery.mt_case_call")
        if self.next_action_date:
            case.write(
                {
                    "next_action_date": self.next_action_date,
                    "next_action_note": self.next_action_note,
                }
            )
        if self.outcome == "promised":
            # Take the promise down straight away.
            return case.action_log_promise()
        return {"type": "ir.actions.act_window_close"}
