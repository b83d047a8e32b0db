from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .debt_recovery_workflow_mixin import WORKFLOW_STEP

LEGAL_STEP_KINDS = [
    ("letter_before_action", "Letter Before Action"),
    ("claim_filed", "Claim Filed"),
    ("hearing", "Hearing"),
    ("judgment", "Judgment"),
    ("enforcement", "Enforcement / Bailiff"),
    ("closed", "Closed"),
]

# Logged on the case when the step is recorded (``write`` refuses them afterwards).
LEGAL_STEP_FIXED_FIELDS = ("legal_action_id", "kind", "date", "document", "document_name")


class DebtRecoveryLegalStep(models.Model):
    """One step of a legal action, with its date: each is logged on the case.
    A "claim filed" step interrupts the limitation period of the items
    claimed where the law says so (``tools/limitation.py``, COURT_CLAIM)."""

    _name = "debt.recovery.legal.step"
    _description = "Legal Action Step"
    _order = "date, id"
    _check_company_auto = True

    # === FIELDS === #
    legal_action_id = fields.Many2one(
        comodel_name="debt.recovery.legal.action",
        string="Legal Action",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="legal_action_id.company_id", store=True)
    date = fields.Date(required=True, default=fields.Date.context_today)
    kind = fields.Selection(selection=LEGAL_STEP_KINDS, string="Step", required=True)
    note = fields.Text()
    document = fields.Binary(attachment=True, help="The letter, claim form, order or judgment.")
    document_name = fields.Char()
    user_id = fields.Many2one(
        comodel_name="res.users", string="Recorded By", default=lambda s: s.env.user, readonly=True
    )

    # === CONSTRAINT METHODS === #
    @api.constrains("date", "legal_action_id")
    def _check_date(self):
        today = fields.Date.context_today(self)
        for step in self:
            if step.date > today:
                raise ValidationError(
                    self.env._(
                        "A step is recorded once it happened: %(date)s is in the future.",
                        date=fields.Date.to_string(step.date),
                    )
                )
            opened = step.legal_action_id.date
            if opened and step.date < opened:
                raise ValidationError(
                    self.env._(
                        "A step of the legal action %(name)s happens once it is open: %(date)s "
                        "is before it opened on %(opened)s.",
                        name=step.legal_action_id.display_name,
                        date=fields.Date.to_string(step.date),
                        opened=fields.Date.to_string(opened),
                    )
                )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        steps = super().create(vals_list)
        for step in steps:
            action = step.legal_action_id
            if action.state != "open" and not WORKFLOW_STEP:
                raise UserError(
                    self.env._(
                        "The legal action %(name)s is closed: no step can be added.",
                        name=action.display_name,
                    )
                )
            if step.kind == "closed" and not WORKFLOW_STEP:
                raise UserError(
                    self.env._(
                        "Close the legal action with its outcome (the Close button): the "
                        "closing step is recorded then."
                    )
                )
            action._debt_log_step(step)
        return steps

    def write(self, vals):
        if self.filtered(lambda s: s.legal_action_id.state != "open") and not WORKFLOW_STEP:
            raise UserError(self.env._("The steps of a closed legal action are on record."))
        if vals.get("kind") == "closed" and not WORKFLOW_STEP:
            raise UserError(
                self.env._("Close the legal action with its outcome (the Close button).")
            )
        # What happened, when, and the document are logged on the case when
        # the step is recorded (and a claim filed moves the limitation):
        # a mistake is put right by a note, or by recording the step anew.
        fixed = sorted(set(vals) & set(LEGAL_STEP_FIXED_FIELDS))
        if fixed and not WORKFLOW_STEP:
            raise UserError(
                self.env._(
                    "%(fields)s of a legal step are on record once it is recorded: correct it "
                    "in its note, or record the step anew.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env) for fname in fixed
                    ),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(self.env._("A step of a legal action is a record: it cannot be deleted."))
