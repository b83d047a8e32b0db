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
    stage_holds_escalation = fields.Boolean(related="stage_id.holds_escalation")
    stage_kind = fields.Selection(related="stage_id.kind")
    reason = fields.Text(required=True)

    def action_apply(self):
        """Move the cases, the reason logged on each (the case's write logs it,
        with the hold or the resumption of the escalation).

        A stage that a record makes (disputed, promise, payment plan) asks for
        that record: one case without it is taken to record it (the case then
        moves by itself); several are refused with what to do.
        """
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
        if len(cases) == 1 and cases._missing_hold_records(self.stage_id):
            action = self._record_action(cases, reason)
            if action:
                return action
        cases.with_context(debt_recovery_stage_reason=reason).write({"stage_id": self.stage_id.id})
        return {"type": "ir.actions.act_window_close"}

    def _record_action(self, case, reason):
        """The form that records what the stage needs for ``case`` (None when
        there is no single one: the move then says what to do)."""
        kind = self.stage_id.kind
        if kind == "payment_plan":
            return case.action_open_plan_wizard()
        if kind == "promise":
            action = case.action_log_promise()
            action["context"] = {**action["context"], "default_note": reason}
            return action
        if kind == "disputed":
            undisputed = case.overdue_invoice_ids.filtered(
                lambda move: not move.line_ids.debt_dispute_id
            )
            if len(undisputed) == 1:
                action = undisputed.action_debt_open_dispute()
                action["context"] = {**action["context"], "default_note": reason}
                return action
        if kind == "legal" and self.env["debt.recovery.legal.action"].has_access("create"):
            action = case.action_open_legal_action()
            action["context"] = {**action["context"], "default_note": reason}
            return action
        return None
