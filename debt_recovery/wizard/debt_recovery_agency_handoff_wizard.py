from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.debt_recovery_stage import RECORD_HOLD_FIELDS


class DebtRecoveryAgencyHandoffWizard(models.TransientModel):
    _name = "debt.recovery.agency.handoff.wizard"
    _description = "Hand Cases to a Collection Agency"

    # === FIELDS === #
    case_ids = fields.Many2many(
        comodel_name="debt.recovery.case",
        relation="debt_recovery_agency_handoff_wizard_case_rel",
        string="Cases",
        required=True,
        default=lambda self: self._default_case_ids(),
    )
    company_id = fields.Many2one(comodel_name="res.company", compute="_compute_company_id")
    agency_id = fields.Many2one(
        comodel_name="debt.recovery.agency",
        string="Agency",
        domain="[('company_id', '=', company_id)]",
    )
    move_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        relation="debt_recovery_agency_handoff_wizard_line_rel",
        string="Items Handed",
        compute="_compute_move_line_ids",
        store=True,
        readonly=False,
        domain="[('debt_case_id', 'in', case_ids), ('account_type', '=', 'asset_receivable'),"
        " ('reconciled', '=', False), ('parent_state', '=', 'posted'),"
        " ('amount_residual', '>', 0)]",
        help="By default, every overdue item of the cases that no dispute, promise, plan or "
        "legal action holds.",
    )
    writeoff_ids = fields.Many2many(
        comodel_name="debt.recovery.writeoff",
        relation="debt_recovery_agency_handoff_wizard_writeoff_rel",
        string="Written-Off Debt",
        compute="_compute_writeoff_ids",
        store=True,
        readonly=False,
        domain="[('case_id', 'in', case_ids), ('state', '=', 'posted'),"
        " ('amount_recoverable', '>', 0)]",
        help="Debt written off that the agency may still recover. By default, that of the "
        "cases with nothing overdue left.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_handed = fields.Monetary(
        compute="_compute_amount_handed",
        currency_field="currency_id",
        help="In company currency.",
    )
    send_letter = fields.Boolean(
        string="Announce to the Customer",
        compute="_compute_send_letter",
        store=True,
        readonly=False,
        help="Send the customer a letter saying that the agency now collects the debt.",
    )
    note = fields.Text()

    # === DEFAULT METHODS === #
    @api.model
    def _default_case_ids(self):
        context = self.env.context
        if context.get("active_model") == "debt.recovery.case" and context.get("active_ids"):
            return [fields.Command.set(context["active_ids"])]
        return False

    # === COMPUTE METHODS === #
    @api.depends("case_ids")
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = wizard.case_ids.company_id[:1] or self.env.company

    @api.depends("case_ids")
    def _compute_move_line_ids(self):
        AccountMoveLine = self.env["account.move.line"]
        today = fields.Date.context_today(self)
        for wizard in self:
            wizard.move_line_ids = AccountMoveLine.search(
                [
                    ("debt_case_id", "in", wizard.case_ids.ids),
                    *AccountMoveLine._debt_open_domain(),
                    *AccountMoveLine._debt_overdue_domain(today),
                    *((fname, "=", False) for fname in RECORD_HOLD_FIELDS.values()),
                ]
            )

    @api.depends("case_ids", "move_line_ids")
    def _compute_writeoff_ids(self):
        Writeoff = self.env["debt.recovery.writeoff"]
        for wizard in self:
            cases = wizard.case_ids - wizard.move_line_ids.debt_case_id
            taken = self.env["debt.recovery.agency.handoff"].search(
                [("case_id", "in", cases.ids), ("state", "=", "active")]
            )
            wizard.writeoff_ids = (
                Writeoff.search([("case_id", "in", cases.ids), ("state", "=", "posted")]).filtered(
                    lambda w: not w.currency_id.is_zero(w.amount_recoverable)
                )
                - taken.writeoff_ids
            )

    @api.depends("move_line_ids", "writeoff_ids")
    def _compute_amount_handed(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            company = wizard.company_id
            wizard.amount_handed = sum(wizard.move_line_ids.mapped("amount_residual")) + sum(
                w.currency_id._convert(w.amount_recoverable, company.currency_id, company, today)
                for w in wizard.writeoff_ids
            )

    @api.depends("agency_id")
    def _compute_send_letter(self):
        for wizard in self:
            wizard.send_letter = wizard.agency_id.announce_letter

    # === ACTION METHODS === #
    def action_hand_off(self):
        """Hand the items to the agency: one hand-off a case and currency, each
        with its case file; the customer is told when asked."""
        self.ensure_one()
        handoffs = self._create_handoffs()
        handoffs._generate_case_file()
        if self.send_letter:
            handoffs._send_announcement()
        if len(handoffs) == 1:
            return handoffs._get_records_action()
        return handoffs._get_records_action(name=self.env._("Agency Hand-Offs"))

    # === BUSINESS METHODS === #
    def _create_handoffs(self):
        self.ensure_one()
        Handoff = self.env["debt.recovery.agency.handoff"]
        Handoff.check_access("create")
        if not self.env.user.has_group("debt_recovery.group_debt_recovery_manager"):
            raise UserError(self.env._("Only a recovery manager hands debt to an agency."))
        if not self.agency_id:
            raise UserError(self.env._("Choose the agency the cases are handed to."))
        self.agency_id._ensure_terms()
        if len(self.case_ids.company_id) > 1:
            raise UserError(
                self.env._("Hand the cases of one company at a time: an agency works for one.")
            )
        closed = self.case_ids.filtered("is_closed")
        if closed:
            raise UserError(
                self.env._(
                    "%(case)s is closed: there is nothing to hand to an agency.",
                    case=closed[0].display_name,
                )
            )
        lines = self.move_line_ids
        writeoffs = self.writeoff_ids
        empty = self.case_ids - lines.debt_case_id - writeoffs.case_id
        if (not lines and not writeoffs) or empty:
            raise UserError(
                self.env._(
                    "%(case)s has no overdue item to hand to the agency (that no dispute, "
                    "promise, plan or legal action holds), nor written-off debt to recover.",
                    case=(empty or self.case_ids)[:1].display_name,
                )
            )
        Items, Writeoff = self.env["account.move.line"], self.env["debt.recovery.writeoff"]
        groups = {}
        for (case, currency), items in lines.grouped(
            lambda line: (line.debt_case_id, line.currency_id)
        ).items():
            groups[case, currency] = [items, Writeoff]
        for (case, currency), group in writeoffs.grouped(
            lambda w: (w.case_id, w.currency_id)
        ).items():
            groups.setdefault((case, currency), [Items, Writeoff])[1] = group
        vals_list = [
            {
                "case_id": case.id,
                "partner_id": case.partner_id.id,
                "company_id": case.company_id.id,
                "agency_id": self.agency_id.id,
                "currency_id": currency.id,
                "move_line_ids": [fields.Command.set(items.ids)],
                "writeoff_ids": [fields.Command.set(group.ids)],
                "note": self.note,
            }
            for (case, currency), (items, group) in groups.items()
        ]
        return Handoff._debt_create_handoffs(vals_list)
