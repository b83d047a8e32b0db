import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount, format_date

from .debt_recovery_stage import LADDER_KINDS, RECORD_HOLD_FIELDS
from .debt_recovery_workflow_mixin import workflow_action

# Fixed when the action opens (``write`` refuses them afterwards; its date
# is a workflow field: the day it is opened, never another).
LEGAL_ACTION_FIXED_FIELDS = ("case_id", "move_line_ids")

LEGAL_OUTCOMES = [
    ("paid", "Paid"),
    ("settled", "Settled"),
    ("judgment_unpaid", "Judgment Unpaid"),
    ("lost", "Lost"),
    ("withdrawn", "Withdrawn"),
]


class DebtRecoveryLegalAction(models.Model):
    """A claim taken to a lawyer or a court: its items are held (no reminder
    leaves while the lawyer acts), the case shows the Legal stage, each step
    is logged on the case, and a claim filed restarts the limitation period
    where the law says so (``account.move.line._debt_limitation_of``)."""

    _name = "debt.recovery.legal.action"
    _description = "Legal Action"
    _inherit = ["mail.thread", "mail.activity.mixin", "debt.recovery.pause.mixin"]
    _order = "date desc, id desc"
    _debt_pause_kind = "legal"
    _debt_workflow_fields = (
        "state",
        "date",
        "date_closed",
        "outcome",
        "time_barred_confirmed_by_id",
    )

    # === FIELDS === #
    case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Case",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        domain="[('is_closed', '=', False)]",
    )
    partner_id = fields.Many2one(related="case_id.partner_id", store=True, readonly=True)
    # No default: the company is the case's.
    company_id = fields.Many2one(
        related="case_id.company_id", store=True, readonly=True, precompute=True, default=None
    )
    move_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        string="Items Claimed",
        compute="_compute_move_line_ids",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('debt_case_id', '=', case_id), ('reconciled', '=', False),"
        " ('amount_residual', '>', 0), ('debt_legal_action_id', '=', False)]",
        help="The receivable items claimed (by default every overdue item of the case).",
    )
    lawyer_id = fields.Many2one(
        comodel_name="res.partner",
        string="Lawyer",
        tracking=True,
        help="The lawyer, solicitor or bailiff who acts for the company.",
    )
    court = fields.Char(tracking=True, help="The court where the claim is (or will be) filed.")
    reference = fields.Char(
        string="Court Case Number", tracking=True, help="The court's or the lawyer's reference."
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Opened By",
        default=lambda self: self.env.user,
        readonly=True,
    )
    date = fields.Date(
        string="Opened On", required=True, default=fields.Date.context_today, readonly=True
    )
    date_closed = fields.Date(string="Closed On", readonly=True, tracking=True)
    state = fields.Selection(
        selection=[("open", "Open"), ("closed", "Closed")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    outcome = fields.Selection(selection=LEGAL_OUTCOMES, readonly=True, tracking=True)
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
    )
    amount_principal = fields.Monetary(
        string="Principal",
        compute="_compute_claim",
        store=True,
        readonly=False,
        currency_field="currency_id",
        help="What the items claimed still owe (their residual) when the action opens.",
    )
    amount_interest = fields.Monetary(
        string="Interest",
        compute="_compute_claim",
        store=True,
        readonly=False,
        currency_field="currency_id",
        help="The late-payment interest the items accrued, not yet charged or waived.",
    )
    amount_costs = fields.Monetary(
        string="Costs",
        compute="_compute_amount_costs",
        store=True,
        readonly=False,
        currency_field="currency_id",
        help="The fixed compensation for recovery costs of the items, plus the recoverable "
        "legal costs recorded (brought up to date as costs are recorded).",
    )
    amount_claim = fields.Monetary(
        string="Claim",
        compute="_compute_amount_claim",
        store=True,
        currency_field="currency_id",
    )
    step_ids = fields.One2many(
        comodel_name="debt.recovery.legal.step",
        inverse_name="legal_action_id",
        string="Steps",
    )
    cost_ids = fields.One2many(
        comodel_name="debt.recovery.legal.cost",
        inverse_name="legal_action_id",
        string="Legal Costs",
    )
    amount_costs_incurred = fields.Monetary(
        string="Costs Incurred",
        compute="_compute_costs",
        currency_field="currency_id",
        help="Vendor bills of court fees, lawyer's and bailiff's fees (untaxed), in the "
        "currency of the claim.",
    )
    amount_costs_recoverable = fields.Monetary(
        string="Recoverable",
        compute="_compute_costs",
        currency_field="currency_id",
    )
    has_time_barred = fields.Boolean(
        string="Time-Barred Items",
        compute="_compute_has_time_barred",
        help="Some items claimed are past their limitation date.",
    )
    time_barred_confirmed = fields.Boolean(
        string="I confirm this claim is time-barred and is to be brought anyway",
        help="A recovery manager confirms that items past their limitation date are "
        "claimed knowingly (the debtor may raise the limitation as a defence).",
    )
    time_barred_confirmed_by_id = fields.Many2one(
        comodel_name="res.users", string="Time Bar Confirmed By", readonly=True
    )
    note = fields.Html()

    # === COMPUTE METHODS === #
    @api.depends("case_id", "reference", "court")
    def _compute_name(self):
        for action in self:
            action.name = " - ".join(
                part for part in (action.case_id.name, action.reference or action.court) if part
            ) or self.env._("Legal Action")

    @api.depends("case_id")
    def _compute_move_line_ids(self):
        today = fields.Date.context_today(self)
        for action in self:
            if action.state != "open":
                continue
            action.move_line_ids = action.case_id.move_line_ids.filtered_domain(
                [
                    ("reconciled", "=", False),
                    ("parent_state", "=", "posted"),
                    ("amount_residual", ">", 0),
                    ("date_maturity", "<", today),
                    ("debt_legal_action_id", "=", False),
                ]
            )

    @api.depends("move_line_ids")
    def _compute_currency_id(self):
        for action in self:
            action.currency_id = (
                action.move_line_ids.currency_id[:1]
                or action.currency_id
                or action.case_id.company_id.currency_id
                or self.env.company.currency_id
            )

    @api.depends("move_line_ids")
    def _compute_claim(self):
        """What the items owe when the action opens (the claim is then
        fixed: payments since do not change what was claimed)."""
        for action in self.filtered(lambda a: a.state == "open"):
            lines = action._claimed_lines()
            action.amount_principal = sum(lines.mapped("amount_residual_currency"))
            action.amount_interest = sum(lines.mapped("debt_interest_accrued"))

    @api.depends("move_line_ids", "cost_ids.amount", "cost_ids.recoverable")
    def _compute_amount_costs(self):
        for action in self.filtered(lambda a: a.state == "open"):
            action.amount_costs = sum(
                action._claimed_lines().mapped("debt_compensation_due")
            ) + action._costs_in_currency(True)

    @api.depends("amount_principal", "amount_interest", "amount_costs")
    def _compute_amount_claim(self):
        for action in self:
            action.amount_claim = (
                action.amount_principal + action.amount_interest + action.amount_costs
            )

    @api.depends("cost_ids.amount", "cost_ids.recoverable", "currency_id")
    def _compute_costs(self):
        for action in self:
            action.amount_costs_incurred = action._costs_in_currency(False)
            action.amount_costs_recoverable = action._costs_in_currency(True)

    @api.depends("move_line_ids")
    @api.depends_context("tz")
    def _compute_has_time_barred(self):
        for action in self:
            action.has_time_barred = any(action.move_line_ids.mapped("debt_time_barred"))

    # === CONSTRAINT METHODS === #
    @api.constrains("move_line_ids", "state", "case_id")
    def _check_items(self):
        for action in self.filtered(lambda a: a.state == "open"):
            lines = action.move_line_ids
            if not lines:
                raise ValidationError(
                    self.env._(
                        "A legal action claims at least one open item of the case %(case)s.",
                        case=action.case_id.display_name,
                    )
                )
            if len(lines.currency_id) > 1:
                raise ValidationError(
                    self.env._("A legal action claims items in one currency: open one a currency.")
                )
            if lines.debt_case_id != action.case_id:
                raise ValidationError(
                    self.env._("A legal action claims items of its own case only.")
                )
            action._debt_check_pause_items(lines)

    @api.constrains("amount_principal", "amount_interest", "amount_costs")
    def _check_amounts(self):
        for action in self:
            currency = action.currency_id
            if any(
                currency.compare_amounts(amount, 0.0) < 0
                for amount in (
                    action.amount_principal,
                    action.amount_interest,
                    action.amount_costs,
                )
            ):
                raise ValidationError(self.env._("The amounts of a claim cannot be negative."))
            if currency.compare_amounts(action.amount_principal, 0.0) <= 0:
                raise ValidationError(self.env._("A legal action claims a positive principal."))

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        actions = super().create(vals_list)
        for action in actions:
            action._ensure_time_bar_confirmed()
            note = self.env._(
                "Legal action opened by %(user)s: %(amount)s claimed (principal %(principal)s, "
                "interest %(interest)s, costs %(costs)s)%(lawyer)s. Reminders paused for its "
                "items.",
                user=self.env.user.name,
                amount=format_amount(self.env, action.amount_claim, action.currency_id),
                principal=format_amount(self.env, action.amount_principal, action.currency_id),
                interest=format_amount(self.env, action.amount_interest, action.currency_id),
                costs=format_amount(self.env, action.amount_costs, action.currency_id),
                lawyer=self.env._(", lawyer %(name)s", name=action.lawyer_id.display_name)
                if action.lawyer_id
                else "",
            )
            if action.time_barred_confirmed_by_id:
                note = Markup("%s<br/>%s") % (
                    note,
                    self.env._(
                        "Items past their limitation date claimed on the confirmation of "
                        "%(user)s.",
                        user=action.time_barred_confirmed_by_id.name,
                    ),
                )
            case = action._debt_start_pause(action.move_line_ids, note)
            if case:
                action._debt_legal_stage_over_other_holds(case)
        return actions

    def write(self, vals):
        # What was claimed and in which case is fixed when the action opens:
        # the items held and their claim follow from it (only the form hides
        # these fields).
        fixed = sorted(set(vals) & set(LEGAL_ACTION_FIXED_FIELDS))
        if fixed and not self._debt_workflow_unlocked():
            raise UserError(
                self.env._(
                    "%(fields)s of a legal action are fixed when it opens: close it and open "
                    "another one for other items.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env) for fname in fixed
                    ),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(
            self.env._("A legal action is a record: close it with its outcome instead.")
        )

    # === ACTION METHODS === #
    @workflow_action
    def action_close(self, outcome=None):
        """Close the action with its ``outcome`` (the close dialog passes it):
        a "closed" step, the items released, the escalation resumes (or the
        case ends Recovered when nothing is left overdue)."""
        self._debt_ensure_workflow_access()
        outcome = outcome or self.env.context.get("debt_recovery_legal_outcome")
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        if outcome not in outcomes:
            raise UserError(
                self.env._(
                    "Say how the legal action ended: %(outcomes)s.",
                    outcomes=", ".join(outcomes.values()),
                )
            )
        today = fields.Date.context_today(self)
        for action in self:
            if action.state != "open":
                raise UserError(
                    self.env._(
                        "The legal action %(name)s is closed already.", name=action.display_name
                    )
                )
            action.step_ids.create(
                {
                    "legal_action_id": action.id,
                    "kind": "closed",
                    "date": today,
                    "note": outcomes[outcome],
                }
            )
            action.write({"outcome": outcome})
            case = action._debt_end_pause(
                "closed",
                self.env._(
                    "Legal action %(name)s closed: %(outcome)s. Reminders resume for what is "
                    "still owed.",
                    name=action.display_name,
                    outcome=outcomes[outcome],
                ),
                (today - action.date).days,
            )
            if case:
                action._debt_back_to_other_holds(case)
                # sudo: as any payment does, a case with nothing overdue
                # closes as Recovered (the sync touches this customer only).
                self.env["debt.recovery.case"].sudo()._sync_cases(case.partner_id)
        return True

    def action_open_close(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Close the Legal Action"),
            "res_model": "debt.recovery.legal.close",
            "view_mode": "form",
            "target": "new",
            "context": {"default_legal_action_id": self.id},
        }

    def action_charge_costs(self):
        """Charge the recoverable legal costs to the customer, with whatever
        interest and compensation accrued (one invoice a currency, as the
        case's Charge Interest and Costs does)."""
        self.ensure_one()
        self._debt_ensure_workflow_access()
        if not self.cost_ids.filtered(lambda c: c.recoverable and not c.charge_line_ids):
            raise UserError(
                self.env._(
                    "No recoverable legal cost of %(name)s is left to charge.", name=self.name
                )
            )
        return self.case_id.action_charge_late_payment()

    # === BUSINESS METHODS === #
    def _ensure_time_bar_confirmed(self):
        """Items past their limitation date are claimed only on a recovery
        manager's explicit confirmation (kept with who gave it)."""
        self.ensure_one()
        barred = self.move_line_ids.filtered("debt_time_barred")
        if not barred:
            return
        if not self.time_barred_confirmed:
            raise UserError(
                self.env._(
                    "%(items)s is past its limitation date (%(date)s): the customer can refuse "
                    "to pay it. Tick the confirmation that the claim is time-barred and is to "
                    "be brought anyway, or leave the item out.",
                    items=", ".join(barred.move_id.mapped("name")),
                    date=format_date(self.env, min(barred.mapped("debt_limitation_date"))),
                )
            )
        if not self.env.user.has_group("debt_recovery.group_debt_recovery_manager"):
            raise UserError(
                self.env._("Only a recovery manager can confirm a claim that is time-barred.")
            )
        self._debt_write_state({"time_barred_confirmed_by_id": self.env.user.id})

    def _debt_overdue_lines(self, case):
        """The case's overdue items (one search)."""
        Item = self.env["account.move.line"]
        return Item.search(
            [
                ("debt_case_id", "=", case.id),
                *Item._debt_open_domain(),
                *Item._debt_overdue_domain(fields.Date.context_today(self)),
            ]
        )

    def _debt_legal_stage_over_other_holds(self, case):
        """A case held by a dispute, a promise, a plan or an agency whose whole
        overdue debt goes to court shows Legal Action (the pause mixin moves
        only cases on the ladder); it keeps the ladder stage to come back to."""
        stage = self.env["debt.recovery.stage"]._get_stage(self._debt_pause_kind)
        if (
            not stage
            or case.stage_kind == stage.kind
            or case.stage_kind not in RECORD_HOLD_FIELDS
            or self._debt_overdue_lines(case).filtered(lambda line: not line.debt_legal_action_id)
        ):
            return
        case._debt_move_stage({"stage_id": stage.id})

    def _debt_back_to_other_holds(self, case):
        """Once the action closed, a case whose overdue debt another record
        still holds whole (a dispute, a plan...) shows that record's stage,
        not the ladder it went back to."""
        if case.stage_kind not in LADDER_KINDS:
            return
        lines = self._debt_overdue_lines(case)
        if not lines:
            return
        for kind, fname in RECORD_HOLD_FIELDS.items():
            if kind != self._debt_pause_kind and all(lines.mapped(fname)):
                case._pause_stage(kind)
                return

    def _claimed_lines(self):
        self.ensure_one()
        return self.move_line_ids.filtered_domain([("currency_id", "=", self.currency_id.id)])

    def _costs_in_currency(self, recoverable):
        """The costs (all, or the recoverable ones) in the claim's currency."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        total = 0.0
        for cost in self.cost_ids:
            if recoverable and not cost.recoverable:
                continue
            total += cost.currency_id._convert(
                cost.amount,
                self.currency_id,
                self.company_id or self.env.company,
                cost.date or today,
            )
        return total

    def _debt_log_step(self, step):
        """Log ``step`` on the case (and on the action)."""
        kinds = dict(step._fields["kind"]._description_selection(self.env))
        body = self.env._(
            "Legal action %(name)s: %(step)s on %(date)s.",
            name=self.display_name,
            step=kinds[step.kind],
            date=format_date(self.env, step.date),
        )
        if step.note:
            body = Markup("%s<br/>%s") % (body, step.note)
        attachments = (
            [(step.document_name or "document", base64.b64decode(step.document))]
            if step.document
            else []
        )
        self.case_id.message_post(body=body, subtype_xmlid="mail.mt_note", attachments=attachments)
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
