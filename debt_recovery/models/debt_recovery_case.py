from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_amount

from ..tools import bulk_create, bulk_log_note
from .account_move_line import LateMoney
from .debt_recovery_stage import HOLD_KINDS, LADDER_KINDS, RECORD_HOLD_FIELDS
from .debt_recovery_workflow_mixin import workflow_step


class DebtRecoveryCase(models.Model):
    _name = "debt.recovery.case"
    _description = "Recovery Case"
    _inherit = ["mail.thread", "mail.activity.mixin", "debt.recovery.workflow.mixin"]
    _order = "priority desc, oldest_due_date, id desc"
    _check_company_auto = True
    _rec_names_search = ["name", "partner_id.complete_name", "partner_id.ref"]
    # The stage moves by hand (the board, the stage change wizard) with its
    # checks; what follows from the moves does not.
    _debt_workflow_fields = (
        "is_closed",
        "stage_kind",
        "date_closed",
        "stage_before_pause_id",
        "date_last_stage_update",
    )

    # === FIELDS === #
    name = fields.Char(
        string="Reference",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: self.env._("New"),
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('parent_id', '=', False)]",
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Stage",
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
        copy=False,
        default=lambda self: self._default_stage_id(),
        group_expand="_read_group_stage_ids",
    )
    stage_kind = fields.Selection(related="stage_id.kind", store=True, string="Stage Kind")
    is_closed = fields.Boolean(related="stage_id.is_closing", store=True, string="Closed")
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Collector",
        index=True,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    origin = fields.Selection(
        selection=[("auto", "Automatic"), ("manual", "Opened by hand")],
        required=True,
        default="manual",
        readonly=True,
    )
    priority = fields.Selection(
        selection=[("0", "Normal"), ("1", "High")],
        default="0",
    )
    color = fields.Integer()
    active = fields.Boolean(default=True)
    date_open = fields.Date(
        string="Opened On",
        required=True,
        readonly=True,
        copy=False,
        default=fields.Date.context_today,
    )
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)
    stage_before_pause_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Stage Before Pause",
        readonly=True,
        copy=False,
        help="Where the case returns when a dispute, promise or plan ends.",
    )
    date_last_stage_update = fields.Datetime(
        string="Last Stage Update",
        readonly=True,
        copy=False,
        default=fields.Datetime.now,
    )
    next_action_date = fields.Date(tracking=True)
    next_action_note = fields.Text(string="Next Action")
    move_line_ids = fields.One2many(
        comodel_name="account.move.line",
        inverse_name="debt_case_id",
        string="Receivable Items",
        readonly=True,
    )
    charge_ids = fields.One2many(
        comodel_name="debt.recovery.charge",
        inverse_name="case_id",
        string="Interest and Costs Charged",
        readonly=True,
    )
    legal_action_ids = fields.One2many(
        comodel_name="debt.recovery.legal.action",
        inverse_name="case_id",
        string="Legal Actions",
        readonly=True,
    )
    legal_action_count = fields.Integer(compute="_compute_legal_action_count")
    evidence_pack_ids = fields.One2many(
        comodel_name="debt.recovery.evidence.pack",
        inverse_name="case_id",
        string="Evidence Packs",
        readonly=True,
    )
    # Stored: they only change when receivable lines change, never with the date.
    amount_due = fields.Monetary(
        string="Total Due",
        compute="_compute_amount_due",
        store=True,
        currency_field="currency_id",
        help="Open receivable balance of the customer in this company, "
        "converted to the company currency.",
    )
    oldest_due_date = fields.Date(
        compute="_compute_amount_due",
        store=True,
        help="Earliest due date among the customer's open receivable items.",
    )
    # Stored, so that the board's columns, the list, pivot and graph sum it:
    # recomputed when the case's items change (posting, payment,
    # reconciliation) and every day by the case sync (``_refresh_overdue``),
    # since what is overdue also changes with the date.
    amount_overdue_company = fields.Monetary(
        string="Overdue",
        compute="_compute_amount_overdue_company",
        store=True,
        currency_field="currency_id",
        help="What is overdue less the customer's open credits in the same currency "
        "(credit notes, unapplied payments, advances), as the reminders claim it, in "
        "company currency. Brought up to date when a payment or an invoice changes "
        "the items, and every night for the items fallen due.",
    )
    # Not stored: they depend on today's date.
    amount_overdue = fields.Monetary(
        string="Overdue Today",
        compute="_compute_amount_overdue",
        currency_field="currency_id",
        help="What is overdue less the customer's open credits in the same currency "
        "(credit notes, unapplied payments, advances), as the reminders claim it.",
    )
    amount_credit = fields.Monetary(
        string="Open Credits",
        compute="_compute_amount_overdue",
        currency_field="currency_id",
        help="Credit notes, unapplied payments and advances of the customer not yet "
        "applied to an invoice, in company currency.",
    )
    amount_disputed = fields.Monetary(
        string="Of Which Disputed",
        compute="_compute_amount_overdue",
        currency_field="currency_id",
        help="The part of what is overdue that the customer disputes: counted in the "
        "overdue amount, but no reminder claims it while the dispute is open.",
    )
    amount_interest = fields.Monetary(
        string="Interest to Date",
        compute="_compute_amount_interest",
        currency_field="currency_id",
        help="Statutory late-payment interest accrued on the customer's late invoices in "
        "this company and not yet charged or waived, in company currency.",
    )
    amount_compensation = fields.Monetary(
        string="Compensation Due",
        compute="_compute_amount_interest",
        currency_field="currency_id",
        help="Fixed compensation for recovery costs of the late invoices, not yet "
        "charged or waived, in company currency.",
    )
    oldest_overdue_days = fields.Integer(
        string="Days Overdue",
        compute="_compute_oldest_overdue_days",
        search="_search_oldest_overdue_days",
        help="Days since the oldest open item fell due.",
    )
    overdue_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Overdue Invoices",
        compute="_compute_overdue_invoices",
    )
    overdue_invoice_count = fields.Integer(compute="_compute_overdue_invoices")
    credit_limit = fields.Float(related="partner_id.credit_limit", string="Credit Limit")
    debt_exposure = fields.Monetary(
        related="partner_id.debt_exposure", string="Credit Exposure", currency_field="currency_id"
    )
    debt_hold_reason = fields.Char(related="partner_id.debt_hold_reason", string="Credit Hold")
    risk_score = fields.Integer(compute="_compute_risk")
    risk_band = fields.Selection(
        selection=[("low", "Low"), ("medium", "Medium"), ("high", "High")],
        compute="_compute_risk",
        string="Risk",
    )
    communication_ids = fields.One2many(
        comodel_name="debt.recovery.communication",
        inverse_name="case_id",
        string="Communications",
    )
    communication_count = fields.Integer(compute="_compute_communication_count")
    agency_handoff_ids = fields.One2many(
        comodel_name="debt.recovery.agency.handoff",
        inverse_name="case_id",
        string="Agency Hand-Offs",
        readonly=True,
    )
    agency_handoff_count = fields.Integer(compute="_compute_agency_handoff_count")
    currency_summary = fields.Html(
        string="Amounts per Currency",
        compute="_compute_currency_summary",
        sanitize=False,
    )

    def init(self):
        # One open case per customer and company (closed cases stay as history).
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS debt_recovery_case_open_unique "
                "ON debt_recovery_case (partner_id, company_id) "
                "WHERE is_closed IS NOT TRUE AND active IS TRUE"
            )
        )

    # === DEFAULT METHODS === #
    @api.model
    def _default_stage_id(self):
        Stage = self.env["debt.recovery.stage"]
        return Stage._get_stage("current") or Stage.search([("is_closing", "=", False)], limit=1)

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([], order=stages._order)

    # === COMPUTE METHODS === #
    @api.depends("name", "partner_id")
    def _compute_display_name(self):
        for case in self:
            if case.partner_id and case.name:
                case.display_name = f"{case.name} - {case.partner_id.display_name}"
            else:
                case.display_name = case.name or case.partner_id.display_name

    @api.depends(
        "move_line_ids.amount_residual",
        "move_line_ids.reconciled",
        "move_line_ids.parent_state",
        "move_line_ids.date_maturity",
    )
    def _compute_amount_due(self):
        cases = self.filtered("id")
        AccountMoveLine = self.env["account.move.line"]
        base_domain = [("debt_case_id", "in", cases.ids), *AccountMoveLine._debt_open_domain()]
        totals = dict(
            AccountMoveLine._read_group(base_domain, ["debt_case_id"], ["amount_residual:sum"])
        )
        oldest = dict(
            AccountMoveLine._read_group(
                [*base_domain, ("amount_residual", ">", 0)],
                ["debt_case_id"],
                ["date_maturity:min"],
            )
        )
        for case in self:
            case.amount_due = totals.get(case._origin, 0.0)
            case.oldest_due_date = oldest.get(case._origin, False)

    def _overdue_domain(self):
        AccountMoveLine = self.env["account.move.line"]
        today = fields.Date.context_today(self)
        return [
            ("debt_case_id", "in", self.filtered("id").ids),
            *AccountMoveLine._debt_open_domain(),
            *AccountMoveLine._debt_overdue_domain(today),
        ]

    def _overdue_and_credits(self):
        """{case: {currency: figures}} of the cases' overdue items and open
        credits (open items with a negative residual), in two grouped queries
        (and one per company for the policies that keep credits apart).

        The credits are deducted from what is overdue in their currency, as the
        escalation deducts them from what it claims: ``figures`` holds
        ``overdue``, ``credit`` and ``net`` (``max(0, overdue - credit)``) in
        the currency, and the same with ``_company`` in company currency, and
        ``disputed_company``: the disputed part of the overdue items.
        """
        AccountMoveLine = self.env["account.move.line"]
        cases = self.filtered("id")
        figures = defaultdict(dict)

        def values(case, currency):
            return figures[case].setdefault(
                currency,
                dict.fromkeys(
                    ("overdue", "overdue_company", "credit", "credit_company", "disputed_company"),
                    0.0,
                ),
            )

        aggregates = ["amount_residual:sum", "amount_residual_currency:sum"]
        # Grouped by dispute too: the disputed part comes with the same query.
        for case, currency, dispute, residual, residual_currency in AccountMoveLine._read_group(
            self._overdue_domain(), ["debt_case_id", "currency_id", "debt_dispute_id"], aggregates
        ):
            figure = values(case, currency)
            figure["overdue"] += residual_currency
            figure["overdue_company"] += residual
            if dispute:
                figure["disputed_company"] += residual
        for case, currency, residual, residual_currency in AccountMoveLine._read_group(
            [
                ("debt_case_id", "in", cases.ids),
                *AccountMoveLine._debt_open_domain(),
                ("amount_residual", "<", 0),
            ],
            ["debt_case_id", "currency_id"],
            aggregates,
        ):
            values(case, currency).update(credit=-residual_currency, credit_company=-residual)
        Partner = self.env["res.partner"]
        apart = self.browse()
        credited = self.browse(
            case.id
            for case, currencies in figures.items()
            if any(figure["credit"] for figure in currencies.values())
        )
        for company, company_cases in credited.grouped("company_id").items():
            kept = Partner._debt_credits_kept_apart(company_cases.partner_id, company)
            apart |= company_cases.filtered(lambda c, kept=kept: c.partner_id in kept)
        for case, currencies in figures.items():
            for figure in currencies.values():
                if case in apart:
                    figure["net"], figure["net_company"] = (
                        figure["overdue"],
                        figure["overdue_company"],
                    )
                else:
                    figure["net"] = max(0.0, figure["overdue"] - figure["credit"])
                    figure["net_company"] = max(
                        0.0, figure["overdue_company"] - figure["credit_company"]
                    )
        return figures

    @api.depends("move_line_ids", "partner_id", "company_id")
    @api.depends_context("tz")
    def _compute_amount_interest(self):
        """One read of all the cases' customers' late invoice items, one pass
        of the late-payment engine, summed in company currency."""
        today = fields.Date.context_today(self)
        cases = self.filtered("id")
        (self - cases).update({"amount_interest": 0.0, "amount_compensation": 0.0})
        if not cases:
            return
        items = self.env["account.move.line"].search(
            [
                ("partner_id", "child_of", cases.partner_id.ids),
                ("company_id", "in", cases.company_id.ids),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("move_id.move_type", "=", "out_invoice"),
                ("date_maturity", "<", today),
            ]
        )
        figures = items._debt_late_payment(today)
        # Each conversion rate looked up once, not once an item.
        money = LateMoney(self.env, today)
        totals = defaultdict(lambda: [0.0, 0.0])
        for item in items:
            figure = figures.get(item.id)
            if not figure:
                continue
            key = (item.partner_id.commercial_partner_id.id, item.company_id.id)
            company = item.company_id
            for index, amount in enumerate((figure.interest, figure.compensation)):
                if amount:
                    totals[key][index] += money.convert(
                        amount, item.currency_id, company.currency_id, company.id
                    )
        for case in cases:
            interest, compensation = totals[case.partner_id.id, case.company_id.id]
            case.amount_interest = case.currency_id.round(interest)
            case.amount_compensation = case.currency_id.round(compensation)

    @api.depends("move_line_ids", "partner_id", "company_id")
    @api.depends_context("tz")
    def _compute_amount_overdue(self):
        # Grouped sums: the board and lists show it for every card.
        figures = self._overdue_and_credits()
        for case in self:
            currencies = figures.get(case._origin, {}).values()
            case.amount_overdue = case.currency_id.round(
                sum(figure["net_company"] for figure in currencies)
            )
            case.amount_credit = sum(figure["credit_company"] for figure in currencies)
            case.amount_disputed = sum(figure["disputed_company"] for figure in currencies)

    @api.depends(
        "move_line_ids.amount_residual",
        "move_line_ids.amount_residual_currency",
        "move_line_ids.reconciled",
        "move_line_ids.parent_state",
        "move_line_ids.date_maturity",
        "move_line_ids.currency_id",
        "partner_id",
        "company_id",
    )
    def _compute_amount_overdue_company(self):
        # The figure of ``amount_overdue``, kept: the same rule, the same queries.
        figures = self._overdue_and_credits()
        for case in self:
            currencies = figures.get(case._origin, {}).values()
            case.amount_overdue_company = case.currency_id.round(
                sum(figure["net_company"] for figure in currencies)
            )

    @api.depends("move_line_ids")
    @api.depends_context("tz")
    def _compute_overdue_invoices(self):
        invoices = dict(
            self.env["account.move.line"]._read_group(
                self._overdue_domain(), ["debt_case_id"], ["move_id:recordset"]
            )
        )
        for case in self:
            case.overdue_invoice_ids = invoices.get(case._origin, self.env["account.move"])
            case.overdue_invoice_count = len(case.overdue_invoice_ids)

    @api.depends("move_line_ids", "partner_id", "company_id")
    @api.depends_context("tz")
    def _compute_currency_summary(self):
        AccountMoveLine = self.env["account.move.line"]
        per_currency = self._overdue_and_credits()
        for case, currency, residual, residual_currency in AccountMoveLine._read_group(
            [("debt_case_id", "in", self.filtered("id").ids), *AccountMoveLine._debt_open_domain()],
            ["debt_case_id", "currency_id"],
            ["amount_residual:sum", "amount_residual_currency:sum"],
        ):
            values = per_currency[case].setdefault(currency, {})
            values.update(due=residual_currency, due_company=residual)
        for case in self:
            case.currency_summary = case._render_currency_summary(
                per_currency.get(case._origin, {})
            )

    def _render_currency_summary(self, amounts):
        """Small HTML table per currency: due, overdue, open credits and the net
        overdue, and the net overdue in company currency."""
        if not amounts:
            return False
        env = self.env
        rows = Markup()
        cell = Markup("<td class='text-end'>%s</td>")
        for currency, values in sorted(amounts.items(), key=lambda item: item[0].name):
            rows += (
                Markup("<tr><td>%s</td>") % currency.name
                + Markup().join(
                    cell % format_amount(env, values.get(key, 0.0), currency)
                    for key in ("due", "overdue", "credit", "net")
                )
                + cell % format_amount(env, values.get("net_company", 0.0), self.currency_id)
                + Markup("</tr>")
            )
        head_cell = Markup("<th class='text-end'>%s</th>")
        head = (
            Markup(
                "<table class='table table-sm o_debt_recovery_currency_summary'><thead><tr>"
                "<th>%s</th>"
            )
            % env._("Currency")
            + Markup().join(
                head_cell % label
                for label in (
                    env._("Due"),
                    env._("Overdue"),
                    env._("Open Credits"),
                    env._("Net Overdue"),
                    env._("Net Overdue in %(currency)s", currency=self.currency_id.name),
                )
            )
            + Markup("</tr></thead><tbody>")
        )
        return head + rows + Markup("</tbody></table>")

    @api.depends("partner_id", "company_id")
    def _compute_risk(self):
        risks = self.env["debt.recovery.risk"].search(
            [("partner_id", "in", self.partner_id.ids), ("company_id", "in", self.company_id.ids)]
        )
        risk_of = {(risk.partner_id, risk.company_id): risk for risk in risks}
        for case in self:
            risk = risk_of.get((case.partner_id, case.company_id))
            case.risk_score = risk.score if risk else 0
            case.risk_band = risk.band if risk else False

    @api.depends("communication_ids")
    def _compute_legal_action_count(self):
        counts = dict(
            self.env["debt.recovery.legal.action"]._read_group(
                [("case_id", "in", self.ids)], ["case_id"], ["__count"]
            )
        )
        for case in self:
            case.legal_action_count = counts.get(case, 0)

    def _compute_communication_count(self):
        counts = dict(
            self.env["debt.recovery.communication"]._read_group(
                [("case_id", "in", self.ids)], ["case_id"], ["__count"]
            )
        )
        for case in self:
            case.communication_count = counts.get(case, 0)

    @api.depends("agency_handoff_ids")
    def _compute_agency_handoff_count(self):
        counts = dict(
            self.env["debt.recovery.agency.handoff"]._read_group(
                [("case_id", "in", self.ids)], ["case_id"], ["__count"]
            )
        )
        for case in self:
            case.agency_handoff_count = counts.get(case, 0)

    @api.depends("oldest_due_date")
    @api.depends_context("tz")
    def _compute_oldest_overdue_days(self):
        today = fields.Date.context_today(self)
        for case in self:
            due = case.oldest_due_date
            case.oldest_overdue_days = (today - due).days if due and due < today else 0

    def _search_oldest_overdue_days(self, operator, value):
        today = fields.Date.context_today(self)
        return self.env["account.move.line"]._debt_days_domain(
            "oldest_due_date", operator, value, today
        )

    # === CONSTRAINT METHODS === #
    @api.constrains("partner_id", "company_id", "stage_id", "active")
    def _check_one_open_case(self):
        open_cases = self.filtered(lambda c: c.active and not c.is_closed)
        if open_cases:
            self._check_no_open_case(
                [(case.partner_id, case.company_id) for case in open_cases], open_cases
            )

    @api.model
    def _check_no_open_case(self, pairs, allowed=None):
        """Refuse a second open case for any (partner, company) of ``pairs``."""
        partners = self.env["res.partner"].concat(*(partner for partner, _company in pairs))
        companies = self.env["res.company"].concat(*(company for _partner, company in pairs))
        existing = self.sudo().search(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "in", companies.ids),
                ("is_closed", "=", False),
                ("id", "not in", (allowed or self.browse()).ids),
            ]
        )
        taken = {(case.partner_id, case.company_id) for case in existing}
        seen = set()
        for pair in pairs:
            if pair in taken or pair in seen:
                raise ValidationError(
                    self.env._(
                        "%(partner)s already has an open recovery case in %(company)s.",
                        partner=pair[0].display_name,
                        company=pair[1].display_name,
                    )
                )
            seen.add(pair)

    @api.constrains("partner_id")
    def _check_partner_commercial(self):
        for case in self:
            if case.partner_id != case.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "A recovery case is opened for the customer (%(commercial)s), "
                        "not for one of its contacts (%(contact)s).",
                        commercial=case.partner_id.commercial_partner_id.display_name,
                        contact=case.partner_id.display_name,
                    )
                )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        # Checked before the INSERT so that the user gets a clear message
        # (the partial unique index still guards against concurrent inserts).
        Partner, Company = self.env["res.partner"], self.env["res.company"]
        self._check_no_open_case(
            [
                (
                    Partner.browse(vals.get("partner_id")),
                    Company.browse(vals.get("company_id")) or self.env.company,
                )
                for vals in vals_list
                if vals.get("partner_id") and vals.get("active", True)
            ]
        )
        # The default stage once for the batch, not a search per new case.
        if "default_stage_id" not in self.env.context and any(
            "stage_id" not in vals for vals in vals_list
        ):
            default_stage = self._default_stage_id()
            for vals in vals_list:
                vals.setdefault("stage_id", default_stage.id)
        unnamed = defaultdict(list)
        for vals in vals_list:
            if not vals.get("name") or vals["name"] == self.env._("New"):
                unnamed[vals.get("company_id") or self.env.company.id].append(vals)
        for company_id, company_vals in unnamed.items():
            names = self._next_case_names(
                self.env["res.company"].browse(company_id), len(company_vals)
            )
            for vals, name in zip(company_vals, names, strict=True):
                vals["name"] = name or self.env._("New")
        cases = super().create(vals_list)
        cases._attach_open_lines()
        # Opened in a stage that records make (the board's column): as a move there.
        for stage, group in cases.grouped("stage_id").items():
            if stage.kind in RECORD_HOLD_FIELDS and not self._debt_workflow_unlocked():
                group._check_stage_move(stage)
        return cases

    @api.model
    def _next_case_names(self, company, count):
        """``count`` case references from the company's sequence.

        A standard (no-gap off) sequence hands out all the numbers in one query,
        so that the daily run opening thousands of cases does not pay one
        query per case.
        """
        Sequence = self.env["ir.sequence"].with_company(company).sudo()
        sequence = Sequence.search(
            [("code", "=", "debt.recovery.case"), ("company_id", "in", [company.id, False])],
            order="company_id",
            limit=1,
        )
        if not sequence or sequence.implementation != "standard" or sequence.use_date_range:
            return [Sequence.next_by_code("debt.recovery.case") for _n in range(count)]
        self.env.cr.execute(
            SQL(
                "SELECT nextval(%s) FROM generate_series(1, %s)",
                f"ir_sequence_{sequence.id:03d}",
                count,
            )
        )
        # What get_next_char() does, with the prefix and suffix interpolated once.
        prefix, suffix = sequence._get_prefix_suffix()
        return [
            f"{prefix}{number:0{sequence.padding}d}{suffix}" for (number,) in self.env.cr.fetchall()
        ]

    def write(self, vals):
        if "stage_id" not in vals:
            return super().write(vals)
        # The caller's own values, before those that follow from the move.
        self._debt_check_workflow_vals([vals])
        # A move by hand (the form, the board, the stage change wizard, the
        # case sync): it must agree with the records, and says what it holds.
        stage = self.env["debt.recovery.stage"].browse(vals["stage_id"])
        moved = self.filtered(lambda case: case.stage_id != stage)
        moved._check_stage_move(stage)
        before = {case: case.stage_id for case in moved}
        result = self._debt_move_stage(vals)
        moved._log_stage_move(before, stage)
        return result

    def _debt_move_stage(self, vals):
        """Write ``vals`` (with a ``stage_id``) and what follows from the move,
        unchecked: a move by hand is checked by ``write``; a dispute, a promise
        or a plan moves the case itself, and logs why."""
        vals = dict(vals, date_last_stage_update=fields.Datetime.now())
        stage = self.env["debt.recovery.stage"].browse(vals["stage_id"])
        if stage.is_closing:
            vals.setdefault("date_closed", fields.Date.context_today(self))
        else:
            vals["date_closed"] = False
        if stage.kind in LADDER_KINDS:
            vals.setdefault("stage_before_pause_id", False)
        with workflow_step():
            return super().write(vals)

    # === MAIL THREAD === #
    def _track_subtype(self, init_values):
        self.ensure_one()
        if "stage_id" in init_values:
            return self.env.ref("debt_recovery.mt_case_stage")
        return super()._track_subtype(init_values)

    # === ACTION METHODS === #
    def _get_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_view_overdue_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(
            {
                "domain": [("id", "in", self.overdue_invoice_ids.ids)],
                "context": {"create": False, "default_move_type": "out_invoice"},
                "name": self.env._("Overdue Invoices"),
            }
        )
        return action

    def action_view_receivable_items(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Receivable Items"),
            "res_model": "account.move.line",
            "view_mode": "list",
            "views": [(self.env.ref("debt_recovery.account_move_line_view_list_debt").id, "list")],
            "domain": [("debt_case_id", "=", self.id)],
            "context": {"create": False, "search_default_debt_open": 1},
        }

    def action_view_communications(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_communication_action"
        )
        action["domain"] = [("case_id", "=", self.id)]
        return action

    def action_send_reminder_now(self):
        """Send now whatever level the customer's items have reached."""
        self.ensure_one()
        result = self.env["debt.recovery.escalation"]._run(
            self.company_id, partners=self.partner_id
        )
        if result.locked:
            raise UserError(
                self.env._(
                    "The daily escalation is running: nothing was sent, so that no "
                    "customer is contacted twice. Try again in a few minutes."
                )
            )
        if not result.done:
            raise UserError(
                self.env._(
                    "Nothing to send to %(customer)s: no item has reached a new level today.",
                    customer=self.partner_id.display_name,
                )
            )
        return self.action_view_communications()

    def action_log_promise(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        overdue = self.move_line_ids.filtered_domain(
            [
                ("reconciled", "=", False),
                ("amount_residual", ">", 0),
                ("date_maturity", "<", today),
                ("debt_promise_id", "=", False),
                ("debt_dispute_id", "=", False),
            ]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log a Promise to Pay"),
            "res_model": "debt.recovery.promise",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
                "default_move_line_ids": overdue.ids,
                "default_amount": sum(overdue.mapped("amount_residual_currency")),
            },
        }

    def action_open_plan_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Payment Plan"),
            "res_model": "debt.recovery.plan.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
            },
        }

    def action_view_agency_handoffs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_agency_handoff_action"
        )
        action["domain"] = [("case_id", "=", self.id)]
        action["context"] = {"create": False}
        if self.agency_handoff_count == 1:
            action.update(views=[(False, "form")], res_id=self.agency_handoff_ids.id)
        return action

    def action_change_stage(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Change Stage"),
            "res_model": "debt.recovery.stage.change",
            "view_mode": "form",
            "target": "new",
            "context": {"default_case_ids": self.ids},
        }

    def action_charge_late_payment(self):
        """Charges the customer the late-payment interest, compensation and
        level fees accrued since the last charge: one posted invoice a
        currency (debt.recovery.charge)."""
        self.ensure_one()
        self.check_access("write")
        if not self.env.user.has_group("debt_recovery.group_debt_recovery_user"):
            raise UserError(self.env._("Only recovery users can charge interest and costs."))
        # sudo: a collector charges what the law grants without invoicing rights.
        charges = self.env["debt.recovery.charge"].sudo()._debt_charge_case(self)
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "views": [[False, "form"]] if len(charges) == 1 else [[False, "list"], [False, "form"]],
            "res_id": charges.move_id.id if len(charges) == 1 else False,
            "domain": [("id", "in", charges.move_id.ids)],
            "name": self.env._("Interest and Costs Charged"),
        }

    def action_open_charge_waive(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "debt.recovery.charge.waive",
            "views": [[False, "form"]],
            "target": "new",
            "name": self.env._("Waive or Reverse Interest and Costs"),
            "context": {"default_case_id": self.id},
        }

    def action_open_legal_action(self):
        """Open a legal action on the case's overdue items (a Recovery
        Manager: only managers may create one)."""
        self.ensure_one()
        self.env["debt.recovery.legal.action"].check_access("create")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Open a Legal Action"),
            "res_model": "debt.recovery.legal.action",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_case_id": self.id},
        }

    def action_view_legal_actions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_legal_action_action"
        )
        action["domain"] = [("case_id", "=", self.id)]
        action["context"] = {"default_case_id": self.id}
        if self.legal_action_count == 1:
            action.update(
                {
                    "res_id": self.legal_action_ids.id,
                    "view_mode": "form",
                    "views": [(False, "form")],
                }
            )
        return action

    def action_evidence_pack(self):
        """Produce the case's evidence pack (PDF and ZIP of originals) and
        download its PDF."""
        self.ensure_one()
        pack = self.env["debt.recovery.evidence.pack"]._debt_produce(self)
        return pack.action_download_pdf()

    def action_log_call(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log a Call"),
            "res_model": "debt.recovery.call.log",
            "view_mode": "form",
            "target": "new",
            "context": {"default_case_id": self.id},
        }

    def action_schedule_next_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Schedule the Next Action"),
            "res_model": "mail.activity.schedule",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": self._name,
                "active_ids": self.ids,
                "active_id": self.id,
                "default_res_model": self._name,
                "default_res_ids": str(self.ids),
            },
        }

    # === BUSINESS METHODS === #
    def _attach_open_lines(self):
        """Link the customer's open receivable items in the case's company to the case.

        One UPDATE for all cases; the ORM is told so that the stored amounts
        of the cases gaining items, and of those losing them, recompute.
        """
        cases = self.filtered(lambda c: not c.is_closed)
        if not cases:
            return
        self.env.flush_all()
        # "before" is the row as it was: its case is the one losing the item.
        rows = self.env.execute_query(
            SQL(
                """
                UPDATE account_move_line aml
                   SET debt_case_id = c.id
                  FROM debt_recovery_case c, res_partner p, account_account acc,
                       account_move_line before
                 WHERE c.id IN %(case_ids)s
                   AND before.id = aml.id
                   AND aml.partner_id = p.id
                   AND acc.id = aml.account_id
                   AND p.commercial_partner_id = c.partner_id
                   AND aml.company_id = c.company_id
                   AND acc.account_type = 'asset_receivable'
                   AND aml.parent_state = 'posted'
                   AND aml.reconciled IS NOT TRUE
                   AND aml.debt_case_id IS DISTINCT FROM c.id
             RETURNING aml.id, before.debt_case_id
                """,
                case_ids=tuple(cases.ids),
            )
        )
        if not rows:
            return
        lines = self.env["account.move.line"].browse([row[0] for row in rows])
        changed = cases | self.browse({row[1] for row in rows if row[1]})
        lines.invalidate_recordset(["debt_case_id"])
        changed.invalidate_recordset(["move_line_ids"])
        amounts = [
            self._fields["amount_due"],
            self._fields["oldest_due_date"],
            self._fields["amount_overdue_company"],
        ]
        dependents = set(self.pool.get_dependent_fields(lines._fields["debt_case_id"]))
        if any(field.store for field in dependents.difference(amounts)):
            lines.modified(["debt_case_id"])
        else:
            # Only the cases' amounts (marked below) are stored: the rest is
            # forgotten, without finding the records of thousands of items.
            for field in dependents.difference(amounts):
                self.env[field.model_name].invalidate_model([field.name], flush=False)
        for field in amounts:
            self.env.add_to_compute(field, changed)

    @api.model
    def _sync_cases(self, partners=None):
        """Open cases for customers with overdue items; close recovered ones.

        Set-based: a fixed number of queries whatever the number of customers.
        ``partners`` restricts the work to those commercial partners.
        """
        scope = []
        if partners is not None:
            partners = partners.commercial_partner_id
            if not partners:
                return
            scope = [("partner_id.commercial_partner_id", "in", partners.ids)]

        # 1. Customers (per company) with overdue items and no open case.
        wanted = self._overdue_pairs(scope)
        case_domain = [("is_closed", "=", False)]
        if partners is not None:
            case_domain.append(("partner_id", "in", partners.ids))
        open_cases = self.search(case_domain)
        existing = {(case.partner_id, case.company_id) for case in open_cases}
        to_create = sorted(wanted - existing, key=lambda pc: (pc[1].id, pc[0].id))
        self._open_auto_cases(to_create)

        # 2. New receivable items of customers with an open case join the case,
        # and what is overdue today is brought up to date (items fell due).
        open_cases._attach_open_lines()
        open_cases._refresh_overdue()

        # 3. A case held in a stage that records make (disputed, promise, plan)
        # with overdue debt that no record holds (an invoice fallen due since)
        # goes back onto the ladder: that debt gets its reminders.
        unheld = open_cases.filtered(lambda c: c.stage_kind in RECORD_HOLD_FIELDS)._unheld()
        if unheld:
            unheld._back_to_ladder()
            bulk_log_note(
                unheld,
                self.env._(
                    "Escalation resumes: overdue items that no dispute, promise or plan "
                    "holds fell due."
                ),
            )

        # 4. Cases whose overdue items are all paid are closed as recovered.
        closed_stage = self.env["debt.recovery.stage"]._get_stage("closed")
        if not closed_stage:
            return
        candidates = open_cases.filtered(lambda c: c.stage_kind != "written_off")
        to_close = candidates.filtered(
            lambda c: (c.partner_id, c.company_id) not in wanted
            and (c.origin == "auto" or (c.move_line_ids and c.amount_due <= 0))
        )
        if to_close:
            to_close.write({"stage_id": closed_stage.id})
            bulk_log_note(to_close, self.env._("Closed as recovered: nothing is overdue any more."))

    def _refresh_overdue(self):
        """Bring the stored overdue amount of the cases to today's: the items
        that fell due since it was computed count now. Only the cases whose
        figure changed are written (the grouped reads are done once)."""
        cases = self.filtered("id")
        if not cases:
            return
        self.env.flush_all()
        figures = cases._overdue_and_credits()
        changed = cases.filtered(
            lambda case: case.currency_id.compare_amounts(
                case.amount_overdue_company,
                sum(figure["net_company"] for figure in figures.get(case, {}).values()),
            )
        )
        if changed:
            self.env.add_to_compute(self._fields["amount_overdue_company"], changed)
            changed.flush_recordset(["amount_overdue_company"])

    @api.model
    def _overdue_pairs(self, scope):
        """{(commercial partner, company)} with overdue items among the
        journal items of ``scope`` (a domain), in one grouped query."""
        AccountMoveLine = self.env["account.move.line"]
        today = fields.Date.context_today(self)
        return {
            (partner.commercial_partner_id, company)
            for partner, company in AccountMoveLine._read_group(
                [
                    *scope,
                    *AccountMoveLine._debt_open_domain(),
                    *AccountMoveLine._debt_overdue_domain(today),
                ],
                ["partner_id", "company_id"],
            )
        }

    @api.model
    def _open_items_amounts(self, pairs):
        """{(customer, company): (amount due, oldest due date)} of the open items
        the cases of ``pairs`` will hold, as ``_compute_amount_due`` has them."""
        AccountMoveLine = self.env["account.move.line"]
        customers = self.env["res.partner"].concat(*(partner for partner, _company in pairs))
        companies = self.env["res.company"].concat(*(company for _partner, company in pairs))
        domain = [
            ("partner_id.commercial_partner_id", "in", customers.ids),
            ("company_id", "in", companies.ids),
            *AccountMoveLine._debt_open_domain(),
        ]
        amounts = defaultdict(lambda: [0.0, False])
        for partner, company, total in AccountMoveLine._read_group(
            domain, ["partner_id", "company_id"], ["amount_residual:sum"]
        ):
            amounts[partner.commercial_partner_id, company][0] += total
        for partner, company, oldest in AccountMoveLine._read_group(
            [*domain, ("amount_residual", ">", 0)],
            ["partner_id", "company_id"],
            ["date_maturity:min"],
        ):
            current = amounts[partner.commercial_partner_id, company]
            if oldest and (not current[1] or oldest < current[1]):
                current[1] = oldest
        return {
            (partner, company): (company.currency_id.round(total), oldest)
            for (partner, company), (total, oldest) in amounts.items()
        }

    @api.model
    def _open_cases_of(self, pairs):
        """{(customer id, company id): open case id} for ``pairs`` (customer,
        company), opening the missing cases of customers with overdue items.

        The daily case sync (before the escalation) has opened them; a
        customer reached between two syncs gets its case here. A customer
        with nothing overdue (a courtesy reminder) gets none.
        """
        customer_ids = list({partner.id for partner, _company in pairs})
        query = self._search([("partner_id", "in", customer_ids), ("is_closed", "=", False)])
        case_of = {
            (partner_id, company_id): case_id
            for case_id, partner_id, company_id in self.env.execute_query(
                query.select(
                    *(
                        self._field_to_sql(query.table, fname, query)
                        for fname in ("id", "partner_id", "company_id")
                    )
                )
            )
        }
        missing = {pair for pair in pairs if (pair[0].id, pair[1].id) not in case_of}
        if missing:
            overdue = self._overdue_pairs(
                [
                    ("partner_id.commercial_partner_id", "in", [p.id for p, _c in missing]),
                    ("company_id", "in", list({c.id for _p, c in missing})),
                ]
            )
            missing = sorted(missing & overdue, key=lambda pc: (pc[1].id, pc[0].id))
        if missing:
            cases = self._open_auto_cases(missing)
            case_of.update(
                ((partner.id, company.id), case.id)
                for (partner, company), case in zip(missing, cases, strict=True)
            )
        return case_of

    def _open_auto_cases(self, pairs):
        """Open a case for each (customer, company) of ``pairs``, all at once.

        The first daily run opens thousands: the cases are inserted in one
        query (no followers, no tracking), their items attached in one UPDATE,
        and the note saying why each opened logged in one more.
        """
        if not pairs:
            return self.browse()
        stage = self._default_stage_id()
        amounts = self._open_items_amounts(pairs)
        names = {}
        for company in sorted({company for _partner, company in pairs}, key=lambda c: c.id):
            company_pairs = [pair for pair in pairs if pair[1] == company]
            company_names = self._next_case_names(company, len(company_pairs))
            names.update(zip(company_pairs, company_names, strict=True))
        cases = bulk_create(
            self,
            [
                {
                    "name": names[partner, company],
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "stage_id": stage.id,
                    "stage_kind": stage.kind,
                    "is_closed": stage.is_closing,
                    "origin": "auto",
                    "amount_due": amounts.get((partner, company), (0.0, False))[0],
                    "oldest_due_date": amounts.get((partner, company), (0.0, False))[1],
                }
                for partner, company in pairs
            ],
            # Each pair is a customer with overdue items in that company.
            check_company=False,
        )
        cases._attach_open_lines()
        # Their amounts came with them: the items just attached change nothing.
        for fname in ("amount_due", "oldest_due_date"):
            self.env.remove_to_compute(self._fields[fname], cases)
        bulk_log_note(cases, self.env._("Case opened: the customer has overdue receivables."))
        return cases

    def _escalate_stage(self, stage):
        """Move the cases up to ``stage`` (never down, never out of a manual track)."""
        if not stage:
            return
        cases = self.filtered(
            lambda c: c.stage_kind in LADDER_KINDS
            and (c.stage_id.sequence, c.stage_id.id) < (stage.sequence, stage.id)
        )
        if cases:
            cases.write({"stage_id": stage.id})

    # === STAGES AND PAUSES === #
    def _pause_stage(self, kind):
        """Move cases on the escalation ladder to the first stage of ``kind``
        (their ladder stage is kept to come back to)."""
        stage = self.env["debt.recovery.stage"]._get_stage(kind)
        if not stage:
            return
        cases = self.filtered(lambda c: c.stage_kind in LADDER_KINDS)
        for before, group in cases.grouped("stage_id").items():
            group._debt_move_stage({"stage_before_pause_id": before.id, "stage_id": stage.id})

    def _resume_stage(self, kind):
        """Back onto the ladder, to the stage the case had reached, after a pause
        of ``kind`` ended: once no record of that kind holds its open items, or
        at once when some of its overdue debt is held by no record at all."""
        ended = self.filtered(lambda c: c.stage_kind == kind)
        fname = RECORD_HOLD_FIELDS.get(kind)
        if fname:
            ended -= ended._held_by(fname)
        held = self.filtered(lambda c: c.stage_kind in RECORD_HOLD_FIELDS)
        (ended | held._unheld())._back_to_ladder()

    def _back_to_ladder(self):
        """Move the cases to the ladder stage they were paused from (the first
        stage of the ladder if they never were on it)."""
        default = self._default_stage_id()
        for stage, group in self.grouped(lambda c: c.stage_before_pause_id or default).items():
            group._debt_move_stage({"stage_id": stage.id})

    def _held_by(self, fname):
        """The cases with open items held by a record through ``fname`` (one query)."""
        if not self:
            return self
        return self.browse(
            [
                case.id
                for [case] in self.env["account.move.line"]._read_group(
                    [
                        ("debt_case_id", "in", self.ids),
                        (fname, "!=", False),
                        ("reconciled", "=", False),
                    ],
                    ["debt_case_id"],
                )
            ]
        )

    def _unheld(self):
        """The cases with overdue items that no record holds (one query)."""
        if not self:
            return self
        AccountMoveLine = self.env["account.move.line"]
        today = fields.Date.context_today(self)
        return self.browse(
            [
                case.id
                for [case] in AccountMoveLine._read_group(
                    [
                        ("debt_case_id", "in", self.ids),
                        *AccountMoveLine._debt_open_domain(),
                        *AccountMoveLine._debt_overdue_domain(today),
                        *((fname, "=", False) for fname in RECORD_HOLD_FIELDS.values()),
                    ],
                    ["debt_case_id"],
                )
            ]
        )

    def _debt_has_unpaused_overdue(self):
        """Whether some overdue item of the case is neither disputed, promised
        nor in a plan."""
        self.ensure_one()
        return bool(self._unheld())

    def _check_stage_move(self, stage):
        """Refuse a move by hand that the records contradict.

        A stage that a record makes (disputed, promise, payment plan) holds the
        cases whose overdue debt the records hold: a move there needs them
        (the dispute on each overdue invoice, the promise, the activated plan),
        and the move back onto the ladder needs them ended (rejected or
        resolved, broken, cancelled): reminders would not go out anyway.
        """
        if not self:
            return
        missing = self._missing_hold_records(stage)
        if missing:
            self._raise_missing_hold_records(missing, stage)
        if stage.kind not in LADDER_KINDS:
            return
        ended = {
            "disputed": self.env._("reject or resolve its open disputes first."),
            "promise": self.env._("mark its open promise to pay broken first."),
            "payment_plan": self.env._("cancel its active payment plan first."),
            "legal": self.env._("close its open legal action first."),
            "agency": self.env._("recall it from the collection agency first (Recall)."),
        }
        for kind, fname in RECORD_HOLD_FIELDS.items():
            cases = self.filtered(lambda c, kind=kind: c.stage_kind == kind)
            if not cases:
                continue
            held = cases._held_by(fname)
            held -= held._unheld()
            if held:
                raise UserError(
                    self.env._(
                        "%(case)s stays in %(current)s while its records hold all its "
                        "overdue debt: %(todo)s",
                        case=held[0].display_name,
                        current=held[0].stage_id.display_name,
                        todo=ended[kind],
                    )
                )

    def _raise_missing_hold_records(self, missing, stage):
        needed = {
            "disputed": self.env._(
                "record the dispute on each overdue invoice (the Dispute button of the "
                "invoice); the case moves to %(stage)s when all its overdue debt is disputed.",
                stage=stage.display_name,
            ),
            "promise": self.env._(
                "log the promise to pay (Log a Promise), with its amount and date; the "
                "case moves to %(stage)s by itself.",
                stage=stage.display_name,
            ),
            "payment_plan": self.env._(
                "agree the plan and its schedule (Payment Plan); the case moves to "
                "%(stage)s when the plan is activated.",
                stage=stage.display_name,
            ),
            "agency": self.env._(
                "hand it to a collection agency (Hand to Agency), with the items the agency "
                "collects; the case moves to %(stage)s when the agency holds all its overdue "
                "debt.",
                stage=stage.display_name,
            ),
            "legal": self.env._(
                "open the legal action (Legal Action), with its items and claim; the case "
                "moves to %(stage)s while the action holds all its overdue debt.",
                stage=stage.display_name,
            ),
        }
        raise UserError(
            self.env._(
                "%(case)s cannot be put in %(stage)s by hand: %(todo)s",
                case=missing[0].display_name,
                stage=stage.display_name,
                todo=needed[stage.kind],
            )
        )

    def _missing_hold_records(self, stage):
        """The cases that a move to ``stage`` (made by a record) lacks the records
        for: some of their overdue debt is held by no record, or none of it by
        a record of that kind."""
        fname = RECORD_HOLD_FIELDS.get(stage.kind)
        if not fname:
            return self.browse()
        return (self - self._held_by(fname)) | self._unheld()

    def _log_stage_move(self, before, stage):
        """Log a move by hand onto or off the ladder (the escalation holds or
        resumes), with the reason the stage change wizard asked for."""
        reason = self.env.context.get("debt_recovery_stage_reason")
        for case in self:
            previous = before[case]
            parts = []
            if reason:
                parts.append(self.env._("Stage changed to %(stage)s.", stage=stage.display_name))
            if stage.kind in HOLD_KINDS and previous.kind not in HOLD_KINDS:
                parts.append(
                    self.env._(
                        "Escalation on hold: no reminder while the case is in %(stage)s.",
                        stage=stage.display_name,
                    )
                )
                if previous.kind in LADDER_KINDS:
                    case._debt_write_state({"stage_before_pause_id": previous.id})
            elif stage.kind in LADDER_KINDS and previous.kind in HOLD_KINDS:
                parts.append(
                    self.env._(
                        "Escalation resumes: back from %(previous)s to %(stage)s.",
                        previous=previous.display_name,
                        stage=stage.display_name,
                    )
                )
            if reason:
                parts.append(self.env._("Reason: %(reason)s", reason=reason))
            if parts:
                case.message_post(body=Markup("<br/>").join(parts), subtype_xmlid="mail.mt_note")

    @api.model
    def _cron_sync_cases(self):
        self._sync_cases()
