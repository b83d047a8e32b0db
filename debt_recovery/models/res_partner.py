import math
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL, format_amount

ACCOUNT_GROUPS = "account.group_account_invoice,account.group_account_readonly"


class ResPartner(models.Model):
    _inherit = "res.partner"

    type = fields.Selection(
        selection_add=[("collections", "Collections Address")],
        ondelete={"collections": "set default"},
    )
    debt_policy_id = fields.Many2one(
        comodel_name="debt.recovery.policy",
        string="Recovery Policy",
        company_dependent=True,
        domain="[('company_id', '=', current_company_id)]",
        help="Leave empty to use the company's default recovery policy.",
    )
    debt_contract_rate = fields.Float(
        string="Contract Late-Payment Rate (% a Year)",
        digits=(5, 3),
        company_dependent=True,
        help="The late-payment interest rate agreed with this customer, replacing the "
        "statutory rate (0: the statutory rate of the recovery policy's law).",
    )
    debt_no_reminder = fields.Boolean(
        string="No Reminders",
        company_dependent=True,
        help="Never send this customer recovery reminders.",
    )
    debt_do_not_contact = fields.Boolean(
        string="Do Not Contact",
        company_dependent=True,
        help="The escalation contacts this customer through no channel.",
    )
    debt_quiet_until = fields.Date(
        string="Quiet Until",
        company_dependent=True,
        help="No recovery communication before this date (quiet period).",
    )
    debt_case_ids = fields.One2many(
        comodel_name="debt.recovery.case",
        inverse_name="partner_id",
        string="Recovery Cases",
        groups=ACCOUNT_GROUPS,
    )
    debt_case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Open Recovery Case",
        compute="_compute_debt_case_id",
        groups=ACCOUNT_GROUPS,
        help="The customer's open recovery case in the current company.",
    )
    debt_stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Recovery Stage",
        compute="_compute_debt_case_id",
        search="_search_debt_stage_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_case_count = fields.Integer(
        string="Recovery Case Count",
        compute="_compute_debt_case_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_promise_kept_count = fields.Integer(
        string="Promises Kept",
        compute="_compute_debt_promise_counts",
        groups=ACCOUNT_GROUPS,
    )
    debt_promise_broken_count = fields.Integer(
        string="Promises Broken",
        compute="_compute_debt_promise_counts",
        groups=ACCOUNT_GROUPS,
    )
    debt_risk_id = fields.Many2one(
        comodel_name="debt.recovery.risk",
        string="Payment Risk",
        compute="_compute_debt_risk",
        groups=ACCOUNT_GROUPS,
    )
    debt_risk_score = fields.Integer(
        string="Risk Score", compute="_compute_debt_risk", groups=ACCOUNT_GROUPS
    )
    debt_risk_band = fields.Selection(
        selection=[("low", "Low"), ("medium", "Medium"), ("high", "High")],
        string="Risk Band",
        compute="_compute_debt_risk",
        groups=ACCOUNT_GROUPS,
    )
    debt_risk_reasons = fields.Text(
        string="Risk Reasons", compute="_compute_debt_risk", groups=ACCOUNT_GROUPS
    )
    debt_currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
    )
    debt_amount_due = fields.Monetary(
        string="Receivable Due",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_amount_overdue = fields.Monetary(
        string="Receivable Overdue",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
        help="What is overdue less the open credits (credit notes, unapplied payments, "
        "advances) in the same currency, as the reminders claim it.",
    )
    debt_interest_accrued = fields.Monetary(
        string="Late-Payment Interest",
        compute="_compute_debt_late_payment",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
        help="Statutory late-payment interest accrued on the customer's late invoices "
        "in this company, not yet charged or waived (company currency).",
    )
    debt_compensation_due = fields.Monetary(
        string="Recovery Compensation",
        compute="_compute_debt_late_payment",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
        help="Fixed compensation for recovery costs of the late invoices, not yet "
        "charged or waived (company currency).",
    )
    debt_amount_credit = fields.Monetary(
        string="Open Credits",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
        help="Credit notes, unapplied payments and advances not yet applied to an "
        "invoice, in company currency: deducted from the overdue amount in their "
        "currency (unless the recovery policy keeps them apart).",
    )
    debt_amount_disputed = fields.Monetary(
        string="Of Which Disputed",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
        help="The part of what is overdue that the customer disputes: counted in the "
        "overdue amount, but no reminder claims it while the dispute is open.",
    )
    debt_amount_overdue_gross = fields.Monetary(
        string="Receivable Overdue Before Credits",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_amount_breakdown = fields.Html(
        string="From Overdue to Total Due",
        compute="_compute_debt_amount_breakdown",
        sanitize=False,
        groups=ACCOUNT_GROUPS,
        help="Why the total due and the overdue amount differ: the open credits "
        "deducted, what is not yet due, the credits not deducted.",
    )
    debt_oldest_overdue_days = fields.Integer(
        string="Oldest Days Overdue",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
    )
    debt_overdue_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Overdue Invoices",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
    )

    # === COMPUTE METHODS === #
    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_debt_case_id(self):
        # All the customers' cases in the company (a handful each) in one query:
        # the open one and the count come from the same rows.
        cases = self.env["debt.recovery.case"].search_fetch(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ],
            ["partner_id", "stage_id", "is_closed", "name"],
        )
        open_case = {}
        counts = defaultdict(int)
        for case in cases:
            counts[case.partner_id] += 1
            if not case.is_closed:
                open_case[case.partner_id] = case
        for partner in self:
            case = open_case.get(partner.commercial_partner_id, cases.browse())
            partner.debt_case_id = case
            partner.debt_stage_id = case.stage_id
            partner.debt_case_count = counts[partner.commercial_partner_id]

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_debt_promise_counts(self):
        counts = {
            (partner, state): count
            for partner, state, count in self.env["debt.recovery.promise"]._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "in", ("kept", "broken")),
                ],
                ["partner_id", "state"],
                ["__count"],
            )
        }
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.debt_promise_kept_count = counts.get((commercial, "kept"), 0)
            partner.debt_promise_broken_count = counts.get((commercial, "broken"), 0)

    @api.depends(
        "commercial_partner_id",
        "credit_limit",
        "debt_policy_id",
        "debt_manual_hold",
        "commercial_partner_id.credit_limit",
        "commercial_partner_id.debt_policy_id",
        "commercial_partner_id.debt_manual_hold",
    )
    @api.depends_context("company", "tz")
    def _compute_debt_amounts(self):
        # The panel's figures and the credit ones (exposure, hold: see
        # res_partner_credit.py) share the one read of the open items.
        company = self.env.company
        today = fields.Date.context_today(self)
        receivable = self._debt_receivable_by_partner(today)
        Move = self.env["account.move"]
        for partner in self:
            amounts = receivable.get(partner.commercial_partner_id, {})
            partner.debt_currency_id = company.currency_id
            partner.debt_amount_due = amounts.get("due", 0.0)
            partner.debt_amount_overdue = amounts.get("overdue", 0.0)
            partner.debt_amount_credit = amounts.get("credit", 0.0)
            partner.debt_amount_disputed = amounts.get("disputed", 0.0)
            partner.debt_amount_overdue_gross = amounts.get("overdue_gross", 0.0)
            partner.debt_oldest_overdue_days = (
                (today - amounts["oldest"]).days if amounts.get("oldest") else 0
            )
            partner.debt_overdue_invoice_ids = Move.browse(amounts.get("move_ids", ()))
        self._debt_set_credit_figures(receivable, today)

    @api.depends(
        "debt_amount_due", "debt_amount_overdue", "debt_amount_overdue_gross", "debt_amount_credit"
    )
    @api.depends_context("company", "tz")
    def _compute_debt_amount_breakdown(self):
        # Apart from the panel's figures (it formats amounts): computed only
        # where it shows, from the figures of the one read of the open items.
        for partner in self:
            partner.debt_amount_breakdown = partner._debt_render_breakdown()

    def _debt_render_breakdown(self):
        """A small table from the overdue amount to the total due: the open
        credits deducted, what is not yet due, the credits left over. None
        when the two are the same and no credit is deducted."""
        self.ensure_one()
        currency = self.debt_currency_id or self.env.company.currency_id
        due, net = self.debt_amount_due, self.debt_amount_overdue
        gross, credit = self.debt_amount_overdue_gross, self.debt_amount_credit
        deducted = gross - net
        not_due = due - gross + credit
        left = credit - deducted
        if all(currency.is_zero(value) for value in (due - net, deducted)):
            return False
        env = self.env
        row = Markup("<tr><td class='%s'>%s</td><td class='text-end text-nowrap %s'>%s</td></tr>")

        def line(label, amount, bold=False):
            weight = Markup("fw-bold") if bold else ""
            return row % (weight, label, weight, format_amount(env, amount, currency))

        rows = []
        if not currency.is_zero(deducted):
            rows.append(line(env._("Overdue, before credits"), gross))
            rows.append(line(env._("Open credits deducted"), -deducted))
        rows.append(line(env._("Overdue"), net, bold=True))
        if not currency.is_zero(not_due):
            rows.append(line(env._("Not yet due"), not_due))
        if not currency.is_zero(left):
            rows.append(line(env._("Open credits not deducted from the overdue amount"), -left))
        rows.append(line(env._("Total due"), due, bold=True))
        return (
            Markup("<table class='table table-sm mb-0 o_debt_recovery_breakdown'><tbody>")
            + Markup().join(rows)
            + Markup("</tbody></table>")
        )

    def _debt_receivable_by_partner(self, today):
        """The company's open receivable items of these customers, in one query
        (and one more for the recovery policies that keep credits apart).

        Open credits (items with a negative residual) are deducted from what is
        overdue in their currency, as the escalation deducts them from what it
        claims: the net overdue of a customer is the sum over its currencies of
        ``max(0, overdue - credits)``.

        :return: {commercial partner: {"due": open balance (net of credits),
                 "overdue": net overdue, "overdue_gross": overdue before credits,
                 "credit": open credits (positive), "disputed": overdue and
                 disputed (part of the overdue), "oldest": oldest overdue due
                 date in a currency still owing something overdue, or None,
                 "move_ids": the overdue entries' ids}}, amounts in company
                 currency.
        """
        AccountMoveLine = self.env["account.move.line"]
        company = self.env.company
        query = AccountMoveLine._search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", company.id),
                *AccountMoveLine._debt_open_domain(),
            ]
        )
        # The overdue and credit conditions on the same rows (plain columns).
        overdue = AccountMoveLine._where_calc(
            AccountMoveLine._debt_overdue_domain(today)
        ).where_clause
        credit = AccountMoveLine._where_calc([("amount_residual", "<", 0)]).where_clause
        disputed = AccountMoveLine._where_calc(
            [*AccountMoveLine._debt_overdue_domain(today), ("debt_dispute_id", "!=", False)]
        ).where_clause

        def column(fname):
            return AccountMoveLine._field_to_sql(query.table, fname, query)

        query.groupby = SQL("%s, %s", column("partner_id"), column("currency_id"))
        rows = self.env.execute_query(
            query.select(
                column("partner_id"),
                SQL("SUM(%s)", column("amount_residual")),
                SQL("SUM(%s) FILTER (WHERE %s)", column("amount_residual"), overdue),
                SQL("-SUM(%s) FILTER (WHERE %s)", column("amount_residual"), credit),
                SQL("MIN(%s) FILTER (WHERE %s)", column("date_maturity"), overdue),
                SQL("ARRAY_AGG(DISTINCT %s) FILTER (WHERE %s)", column("move_id"), overdue),
                SQL("SUM(%s) FILTER (WHERE %s)", column("amount_residual"), disputed),
            )
        )
        partners = self.browse(row[0] for row in rows)
        apart = self._debt_credits_kept_apart(
            self.browse(row[0] for row in rows if row[3]).commercial_partner_id, company
        )
        receivable = {}
        for partner, row in zip(partners, rows, strict=True):
            _id, due, late, credit_amount, oldest, move_ids, disputed_amount = row
            commercial = partner.commercial_partner_id
            amounts = receivable.setdefault(
                commercial,
                {
                    "due": 0.0,
                    "overdue": 0.0,
                    "overdue_gross": 0.0,
                    "credit": 0.0,
                    "disputed": 0.0,
                    "oldest": None,
                    "move_ids": [],
                },
            )
            late, credit_amount = late or 0.0, credit_amount or 0.0
            net = late if commercial in apart else max(0.0, late - credit_amount)
            amounts["due"] += due or 0.0
            amounts["overdue"] += company.currency_id.round(net)
            amounts["overdue_gross"] += late
            amounts["credit"] += credit_amount
            amounts["disputed"] += disputed_amount or 0.0
            if (
                oldest
                and not company.currency_id.is_zero(net)
                and (not amounts["oldest"] or oldest < amounts["oldest"])
            ):
                amounts["oldest"] = oldest
            amounts["move_ids"] += move_ids or []
        return receivable

    @api.model
    def _debt_credits_kept_apart(self, commercials, company):
        """The customers among ``commercials`` whose recovery policy in ``company``
        does not deduct open credits (``net_credits`` off): their figures stay
        gross, as their reminders do. One query when every policy deducts them,
        none for no customer (pass only those with open credits).
        """
        if not commercials:
            return commercials
        # sudo: reading configuration (which policies net credits) for figures
        # the user may see; nothing is returned but the customers.
        Policy = self.env["debt.recovery.policy"].sudo().with_context(active_test=False)
        gross = Policy.search_fetch(
            [("company_id", "=", company.id), ("net_credits", "=", False)], ["is_default"]
        )
        if not gross:
            return commercials.browse()
        default_gross = any(policy.is_default for policy in gross)
        customers = commercials.with_company(company).sudo()
        return commercials.browse(
            customer.id
            for customer in customers
            if customer.debt_policy_id in gross or (not customer.debt_policy_id and default_gross)
        )

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_debt_risk(self):
        risks = self.env["debt.recovery.risk"].search_fetch(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ],
            ["partner_id", "score", "band", "reasons"],
        )
        risk_of = {risk.partner_id: risk for risk in risks}
        for partner in self:
            risk = risk_of.get(partner.commercial_partner_id, risks.browse())
            partner.debt_risk_id = risk
            partner.debt_risk_score = risk.score
            partner.debt_risk_band = risk.band
            partner.debt_risk_reasons = risk.reasons

    def _search_debt_stage_id(self, operator, value):
        """The stage of the customer's open case; customers without one have
        no stage, and match what an empty many2one matches (``= False``,
        ``!= <stage>``, ``not in <stages>``…)."""
        open_cases = [("is_closed", "=", False), ("company_id", "=", self.env.company.id)]
        Case = self.env["debt.recovery.case"]
        cases = Case._search([("stage_id", operator, value), *open_cases])
        domain = [("commercial_partner_id", "in", cases.subselect("partner_id"))]
        if self._debt_empty_matches(operator, value):
            without_case = Case._search(open_cases).subselect("partner_id")
            domain = expression.OR([domain, [("commercial_partner_id", "not in", without_case)]])
        return domain

    @api.model
    def _debt_empty_matches(self, operator, value):
        """Whether an empty many2one satisfies ``(field, operator, value)``, as
        the ORM answers on a stored one."""
        values = value if isinstance(value, list | tuple | set) else [value]
        empty = any(val is False or val is None for val in values)
        if operator in ("=", "in"):
            return empty
        if operator in ("!=", "not in"):
            return not empty
        return operator.startswith("not ")

    # === CONSTRAINT METHODS === #
    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._debt_check_contract_rate_value(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._debt_check_contract_rate_value(vals)
        return super().write(vals)

    @api.model
    def _debt_check_contract_rate_value(self, vals):
        """A rate that is not a finite number is refused before the ORM
        rounds it (which fails on it without a word for the user)."""
        rate = vals.get("debt_contract_rate")
        if rate and not math.isfinite(float(rate)):
            raise ValidationError(
                self.env._("The contract late-payment rate must be a finite number.")
            )

    @api.depends_context("company")
    def _compute_debt_late_payment(self):
        """The customer's late-payment interest and compensation in the
        current company: its cases' figures (one pass for all)."""
        company = self.env.company
        cases = self.env["debt.recovery.case"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", company.id),
                ("is_closed", "=", False),
            ]
        )
        figures = {
            case.partner_id: (case.amount_interest, case.amount_compensation) for case in cases
        }
        for partner in self:
            interest, compensation = figures.get(partner.commercial_partner_id, (0.0, 0.0))
            partner.debt_interest_accrued = interest
            partner.debt_compensation_due = compensation

    @api.constrains("debt_contract_rate")
    def _check_debt_contract_rate(self):
        for partner in self:
            rate = partner.debt_contract_rate
            if not 0 <= rate <= 100:
                raise ValidationError(
                    self.env._(
                        "The contract late-payment rate of %(customer)s must be between 0 and "
                        "100 percent a year.",
                        customer=partner.display_name,
                    )
                )

    @api.constrains("debt_policy_id")
    def _check_debt_policy_company(self):
        for partner in self:
            policy = partner.debt_policy_id
            if policy and policy.company_id != self.env.company:
                raise ValidationError(
                    self.env._(
                        "The recovery policy %(policy)s belongs to %(company)s, "
                        "not to %(current)s.",
                        policy=policy.display_name,
                        company=policy.company_id.display_name,
                        current=self.env.company.display_name,
                    )
                )

    # === BUSINESS METHODS === #
    def _debt_collections_contact(self):
        """Who recovery letters go to: the collections address, else the invoice
        address, else the customer; a contact with an email first."""
        self.ensure_one()
        candidates = [
            *self.child_ids.filtered(lambda c: c.type == "collections"),
            *self.child_ids.filtered(lambda c: c.type == "invoice"),
            self,
        ]
        with_email = [contact for contact in candidates if contact.email]
        return (with_email or candidates)[0]

    # === ACTION METHODS === #
    def _debt_commercial(self):
        self.ensure_one()
        return self.commercial_partner_id

    def action_debt_open_case(self):
        """Open the customer's recovery case, opening one by hand if there is none."""
        return self._debt_case_or_open()._get_form_action()

    def action_debt_view_cases(self):
        partner = self._debt_commercial()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_case_action"
        )
        action["domain"] = [("partner_id", "=", partner.id)]
        action["context"] = {"default_partner_id": partner.id, "active_test": False}
        action["view_mode"] = "list,form,kanban"
        action["views"] = [(False, "list"), (False, "form"), (False, "kanban")]
        return action

    def action_debt_view_overdue_invoices(self):
        partner = self._debt_commercial()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(
            {
                "name": self.env._("Overdue Invoices"),
                "domain": [("id", "in", partner.debt_overdue_invoice_ids.ids)],
                "context": {"create": False},
            }
        )
        return action

    def _debt_case_or_open(self):
        partner = self._debt_commercial()
        Case = self.env["debt.recovery.case"]
        case = Case.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.env.company.id),
                ("is_closed", "=", False),
            ],
            limit=1,
        )
        return case or Case.create({"partner_id": partner.id, "company_id": self.env.company.id})

    def action_debt_log_call(self):
        return self._debt_case_or_open().action_log_call()

    def action_debt_schedule_next_action(self):
        return self._debt_case_or_open().action_schedule_next_action()

    def action_debt_log_promise(self):
        return self._debt_case_or_open().action_log_promise()

    def action_debt_open_plan_wizard(self):
        return self._debt_case_or_open().action_open_plan_wizard()

    def action_debt_change_stage(self):
        return self._debt_case_or_open().action_change_stage()
