from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import CodeFlag
from .debt_recovery_workflow_mixin import WORKFLOW_STEP

# Up while this module posts an invoice that is no new credit (a payment
# plan's agreed fee): no context key an RPC caller sends can lift a hold.
HOLD_EXEMPT = CodeFlag("debt_recovery_hold_exempt")
# Post invoices inside without the credit-hold check.
credit_hold_exempt = HOLD_EXEMPT.raised


class AccountMove(models.Model):
    _inherit = "account.move"

    debt_policy_id = fields.Many2one(
        comodel_name="debt.recovery.policy",
        string="Recovery Policy",
        check_company=True,
        copy=False,
        help="Overrides the customer's recovery policy for this invoice.",
    )
    debt_no_reminder = fields.Boolean(
        string="No Reminders",
        copy=False,
        help="The escalation leaves this invoice alone.",
    )
    debt_case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Recovery Case",
        compute="_compute_debt_case_id",
        search="_search_debt_case_id",
    )
    debt_stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Recovery Stage",
        compute="_compute_debt_case_id",
        search="_search_debt_stage_id",
    )
    debt_due_date = fields.Date(
        string="Oldest Open Due Date",
        compute="_compute_debt_days_overdue",
    )
    debt_days_overdue = fields.Integer(
        string="Days Overdue",
        compute="_compute_debt_days_overdue",
        search="_search_debt_days_overdue",
        help="Days since the oldest unpaid instalment of this invoice fell due.",
    )

    # === COMPUTE METHODS === #
    @api.depends("line_ids.debt_case_id", "line_ids.reconciled", "payment_state")
    def _compute_debt_case_id(self):
        for move in self:
            lines = move.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable" and line.debt_case_id
            )
            case = lines.debt_case_id[-1:] if lines else lines.debt_case_id
            move.debt_case_id = case
            open_lines = lines.filtered(lambda line: not line.reconciled)
            move.debt_stage_id = (
                case.stage_id if case and open_lines and not case.is_closed else False
            )

    @api.depends("line_ids.date_maturity", "line_ids.reconciled", "state")
    @api.depends_context("tz")
    def _compute_debt_days_overdue(self):
        today = fields.Date.context_today(self)
        # Saved posted moves: one grouped query for all (lists, the customer form).
        posted = self.filtered(lambda m: m.state == "posted" and isinstance(m.id, int))
        oldest = dict(
            self.env["account.move.line"]._read_group(
                [
                    ("move_id", "in", posted.ids),
                    ("account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                    ("date_maturity", "!=", False),
                    ("amount_residual", ">", 0),
                ],
                ["move_id"],
                ["date_maturity:min"],
            )
            if posted
            else []
        )
        for move in self:
            if move in posted:
                due = oldest.get(move)
            else:
                dues = move.line_ids.filtered(
                    lambda line: line.account_type == "asset_receivable"
                    and not line.reconciled
                    and line.date_maturity
                    and line.amount_residual > 0
                ).mapped("date_maturity")
                due = move.state == "posted" and dues and min(dues)
            move.debt_due_date = due or False
            move.debt_days_overdue = (today - due).days if due and due < today else 0

    def _search_debt_case_id(self, operator, value):
        return [("line_ids", "any", [("debt_case_id", operator, value)])]

    def _search_debt_stage_id(self, operator, value):
        return [
            (
                "line_ids",
                "any",
                [
                    ("account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                    ("debt_case_id.is_closed", "=", False),
                    ("debt_case_id.stage_id", operator, value),
                ],
            )
        ]

    def _search_debt_days_overdue(self, operator, value):
        """Days overdue of a move are those of its oldest overdue receivable item."""
        today = fields.Date.context_today(self)
        overdue = [
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("amount_residual", ">", 0),
            ("date_maturity", "<", today),
        ]
        return self.env["account.move.line"]._debt_days_search(
            operator,
            value,
            today,
            lambda limit: [("line_ids", "any", [*overdue, ("date_maturity", "<", limit)])],
            lambda day: [
                ("line_ids", "any", [*overdue, ("date_maturity", "=", day)]),
                ("line_ids", "not any", [*overdue, ("date_maturity", "<", day)]),
            ],
        )

    # === CRUD METHODS === #
    @api.ondelete(at_uninstall=False)
    def _unlink_except_debt_writeoff(self):
        self._debt_ensure_not_writeoff_entry()

    # === ACTION METHODS === #
    def button_draft(self):
        self._debt_ensure_not_writeoff_entry()
        return super().button_draft()

    def action_debt_open_dispute(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Dispute"),
            "res_model": "debt.recovery.dispute",
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {"default_move_id": self.id},
        }

    # === BUSINESS METHODS === #
    def _post(self, soft=True):
        overrides = []
        if not HOLD_EXEMPT:
            # Customer invoices of customers on credit hold are refused (credit
            # notes and payments still go through).
            overrides = self.env["res.partner"]._debt_enforce_credit_hold(
                self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "draft"),
                lambda move: move.commercial_partner_id,
                self.env._("The invoice cannot be posted"),
            )
        posted = super()._post(soft=soft)
        # Logged once posted: the log names the invoice by its number.
        self.env["res.partner"]._debt_log_overrides_used(overrides)
        if not self.env.context.get("debt_recovery_skip_sync"):
            receivables = posted.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
            )
            receivables._debt_sync_cases_from_lines()
        return posted

    def _reverse_moves(self, default_values_list=None, cancel=False):
        self._debt_ensure_not_writeoff_entry()
        return super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)

    def _debt_ensure_not_writeoff_entry(self):
        """Refuse to undo by hand the entry of a posted write-off or of a
        recovery: only the write-off's own actions (which run as a workflow
        step and move the write-off with its entry) may."""
        moves = self.filtered("id")
        if WORKFLOW_STEP or not moves:
            return
        # sudo: whoever touches the entry (an accountant without recovery
        # rights) is told which record it books; nothing is read beyond that.
        writeoffs = (
            self.env["debt.recovery.writeoff"]
            .sudo()
            .search([("move_id", "in", moves.ids), ("state", "=", "posted")], limit=1)
        )
        if writeoffs:
            raise UserError(
                self.env._(
                    "%(move)s is the entry of the write-off %(writeoff)s: it cannot be reset "
                    "to draft, deleted or reversed by hand, the write-off would stay written "
                    "off. Use the Reverse action of the write-off instead.",
                    move=writeoffs.move_id.display_name,
                    writeoff=writeoffs.display_name,
                )
            )
        recoveries = (
            self.env["debt.recovery.writeoff.recovery"]
            .sudo()
            .search([("move_id", "in", moves.ids)], limit=1)
        )
        if recoveries:
            raise UserError(
                self.env._(
                    "%(move)s books money recovered on the write-off %(writeoff)s: it cannot "
                    "be reset to draft, deleted or reversed by hand, the recovery would stay "
                    "booked. Use the actions of the write-off instead.",
                    move=recoveries.move_id.display_name,
                    writeoff=recoveries.writeoff_id.display_name,
                )
            )
