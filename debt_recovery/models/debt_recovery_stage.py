from odoo import api, fields, models
from odoo.exceptions import UserError

STAGE_KINDS = [
    ("current", "Current"),
    ("reminder", "Reminder"),
    ("formal_notice", "Formal Notice"),
    ("demand_letter", "Demand Letter"),
    ("payment_plan", "Payment Plan"),
    ("promise", "Promise to Pay"),
    ("disputed", "Disputed"),
    ("agency", "Collection Agency"),
    ("legal", "Legal Action"),
    ("written_off", "Written Off"),
    ("closed", "Recovered / Closed"),
]
# The escalation's ladder: the daily run writes to the customers of cases in
# these kinds only.
LADDER_KINDS = ("current", "reminder", "formal_notice", "demand_letter")
# Kinds that hold a case's escalation: a case moved there waits (the move is
# logged) until it goes back onto the ladder.
HOLD_KINDS = ("payment_plan", "promise", "disputed", "agency", "legal")
# Holds that a record makes, and the journal item field that record sets on the
# items it covers: a case is in such a stage only while the records hold all of
# its overdue debt.
RECORD_HOLD_FIELDS = {
    "disputed": "debt_dispute_id",
    "promise": "debt_promise_id",
    "payment_plan": "debt_plan_id",
    "legal": "debt_legal_action_id",
    "agency": "debt_agency_handoff_id",
}


class DebtRecoveryStage(models.Model):
    _name = "debt.recovery.stage"
    _description = "Recovery Stage"
    _order = "sequence, id"

    # === FIELDS === #
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        selection=STAGE_KINDS,
        required=True,
        default="reminder",
        help="What the stage means for the escalation logic. Several stages may "
        "share a kind; the logic relies on the kind, never on the stage's name.",
    )
    fold = fields.Boolean(
        string="Folded in Board",
        help="Folded stages are shown collapsed on the recovery board.",
    )
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    is_closing = fields.Boolean(
        compute="_compute_is_closing",
        store=True,
        help="Cases in a closing stage are finished: they no longer count as open.",
    )
    holds_escalation = fields.Boolean(
        compute="_compute_holds_escalation",
        help="Cases in this stage get no reminder until they are moved back to a "
        "stage of the ladder (current, reminder, formal notice, demand letter).",
    )
    case_count = fields.Integer(compute="_compute_case_count")

    # === COMPUTE METHODS === #
    @api.depends("kind")
    def _compute_is_closing(self):
        for stage in self:
            stage.is_closing = stage.kind == "closed"

    @api.depends("kind")
    def _compute_holds_escalation(self):
        for stage in self:
            stage.holds_escalation = stage.kind in HOLD_KINDS

    def _compute_case_count(self):
        counts = dict(
            self.env["debt.recovery.case"]._read_group(
                [("stage_id", "in", self.ids)], ["stage_id"], ["__count"]
            )
        )
        for stage in self:
            stage.case_count = counts.get(stage, 0)

    # === CRUD METHODS === #
    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        used = (
            self.env["debt.recovery.case"]
            .with_context(active_test=False)
            ._read_group([("stage_id", "in", self.ids)], ["stage_id"], ["__count"])
        )
        if used:
            raise UserError(
                self.env._(
                    "You cannot delete a recovery stage that cases are using: "
                    "%(stages)s. Archive it instead, or move its cases first.",
                    stages=", ".join(stage.display_name for stage, _count in used),
                )
            )

    # === BUSINESS METHODS === #
    @api.model
    def _get_stage(self, kind):
        """First active stage of ``kind`` in sequence order (empty if none)."""
        return self.search([("kind", "=", kind)], limit=1)
