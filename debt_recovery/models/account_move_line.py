import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from ..tools.late_payment import ONE_DAY, Accrual, accrue, compensation
from ..tools.limitation import (
    ACKNOWLEDGEMENT,
    COURT_CLAIM,
    PART_PAYMENT,
    SHORTEST_YEARS,
    UNSIGNED_ACKNOWLEDGEMENT,
    WRITTEN_REMINDER,
    add_years,
    limitation_date,
)
from .debt_recovery_stage import LADDER_KINDS


@dataclass(frozen=True)
class LatePayment:
    """What the law grants on one late item, in the item's currency."""

    rule: str
    accrual: Accrual
    interest: float
    compensation: float


@dataclass(frozen=True)
class Limitation:
    """The limitation period of one item: its rule, its last day, and the
    events that interrupted or restarted it."""

    rule: str
    date: date
    events: tuple


class LateMoney:
    """Rounding and conversions of the late-payment figures, each currency
    and rate looked up once."""

    def __init__(self, env, today):
        self.env = env
        self.today = today
        self._currencies = {}
        self._rates = {}
        self._codes = {}

    def currency(self, currency_id):
        if currency_id not in self._currencies:
            self._currencies[currency_id] = self.env["res.currency"].browse(currency_id)
        return self._currencies[currency_id]

    def statute_currency(self, code):
        """The currency named ``code`` (EUR, GBP: the statutes' sums)."""
        if code not in self._codes:
            self._codes[code] = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", code)], limit=1)
            )
        return self._codes[code]

    def round(self, amount, currency_id):
        return self.currency(currency_id).round(amount)

    def convert(self, amount, source, target, company_id):
        if source == target:
            return amount
        key = (source.id, target.id, company_id)
        if key not in self._rates:
            company = self.env["res.company"].browse(company_id)
            self._rates[key] = source._get_conversion_rate(source, target, company, self.today)
        return amount * self._rates[key]

    def compensation(self, rule, invoice_total, currency_id, company_id, consumer):
        """The fixed compensation of an invoice of ``invoice_total``, in its
        currency (the rule's sums are in EUR or GBP)."""
        currency = self.currency(currency_id)
        statutory = self.statute_currency(rule.compensation_currency) or currency
        amount = self.convert(invoice_total, currency, statutory, company_id)
        fixed = compensation(rule, amount, consumer=consumer)
        return currency.round(self.convert(fixed, statutory, currency, company_id))


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    debt_communication_line_ids = fields.One2many(
        comodel_name="debt.recovery.communication.line",
        inverse_name="move_line_id",
        string="Recovery Communications",
        readonly=True,
    )
    # Read from the item's last communication line: the daily run writes
    # nothing on journal items (25 indexes each) when it sends a level.
    debt_level_id = fields.Many2one(
        comodel_name="debt.recovery.level",
        string="Recovery Level",
        compute="_compute_debt_level",
        help="The last recovery level this item was sent.",
    )
    debt_level_date = fields.Date(
        string="Recovery Level Date",
        compute="_compute_debt_level",
        help="When the wait for the item's next level started: the day its last "
        "level was sent, moved forward by the days it was paused.",
    )
    debt_dispute_id = fields.Many2one(
        comodel_name="debt.recovery.dispute",
        string="Open Dispute",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    debt_promise_id = fields.Many2one(
        comodel_name="debt.recovery.promise",
        string="Open Promise",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    debt_plan_id = fields.Many2one(
        comodel_name="debt.recovery.plan",
        string="Active Payment Plan",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    debt_agency_handoff_id = fields.Many2one(
        comodel_name="debt.recovery.agency.handoff",
        string="With Collection Agency",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    debt_legal_action_id = fields.Many2one(
        comodel_name="debt.recovery.legal.action",
        string="Open Legal Action",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    debt_exclusion_reason = fields.Char(
        string="Held Back Because",
        compute="_compute_debt_exclusion_reason",
        help="Why the escalation leaves this item alone, if it does.",
    )
    debt_case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Recovery Case",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    debt_credit_deducted = fields.Monetary(
        string="Deducted",
        compute="_compute_debt_credit_deducted",
        currency_field="currency_id",
        help="What this open credit takes off the amount claimed (positive).",
    )

    debt_interest_accrued = fields.Monetary(
        string="Late-Payment Interest",
        compute="_compute_debt_late_payment",
        currency_field="currency_id",
        help="The statutory late-payment interest the item has accrued up to today, in "
        "its currency (also after a late payment in full, until charged or waived).",
    )
    debt_compensation_due = fields.Monetary(
        string="Recovery Compensation",
        compute="_compute_debt_late_payment",
        currency_field="currency_id",
        help="The fixed compensation for recovery costs the late invoice is entitled "
        "to, in the item's currency (on its first late instalment; none where the law "
        "grants none, e.g. to German consumers).",
    )

    # Limitation periods (tools/limitation.py): computed for many items at
    # once, from one read of their events.
    debt_limitation_date = fields.Date(
        string="Limitation Date",
        compute="_compute_debt_limitation",
        search="_search_debt_limitation_date",
        help="The last day on which what the item still owes can be claimed, by the law "
        "of the item's policy (else the company's country), from its due date and the "
        "events that restarted the period: acknowledgements (a plan agreed, a promise), "
        "part payments, and where the law counts them the letters and emails that left "
        "(none once paid).",
    )
    debt_time_barred = fields.Boolean(
        string="Time-Barred",
        compute="_compute_debt_limitation",
        help="The limitation date has passed while the item is still owed: it is left "
        "out of the escalation and never claimed in a letter.",
    )

    # === COMPUTE METHODS === #
    def _compute_debt_limitation(self):
        today = fields.Date.context_today(self)
        limitations = self._debt_limitation()
        for line in self:
            limitation = limitations.get(line.id)
            line.debt_limitation_date = limitation.date if limitation else False
            line.debt_time_barred = bool(
                limitation and limitation.date < today and line.amount_residual > 0
            )

    def _compute_debt_late_payment(self):
        figures = self._debt_late_payment(fields.Date.context_today(self))
        for line in self:
            figure = figures.get(line.id)
            line.debt_interest_accrued = figure.interest if figure else 0.0
            line.debt_compensation_due = figure.compensation if figure else 0.0

    @api.depends("amount_residual_currency")
    def _compute_debt_credit_deducted(self):
        for line in self:
            line.debt_credit_deducted = max(0.0, -line.amount_residual_currency)

    @api.depends("debt_communication_line_ids.level_id", "debt_communication_line_ids.level_date")
    def _compute_debt_level(self):
        latest = self._debt_last_levels()
        Level = self.env["debt.recovery.level"]
        for line in self:
            _sent_id, level_id, level_date = latest.get(line.id, (None, None, False))
            line.debt_level_id = Level.browse(level_id)
            line.debt_level_date = level_date

    def _debt_late_payment(self, today):
        """{item id: LatePayment} of the late customer-invoice items among
        these, up to ``today``: one read of the items, one of their payments,
        one of what was charged, the rates read once, then plain Python
        (tools/late_payment.py). A charge's own invoice bears none."""
        ids = tuple(line_id for line_id in self.ids if isinstance(line_id, int))
        if not ids:
            return {}
        for model, fnames in (
            (
                "account.move.line",
                [
                    "move_id",
                    "partner_id",
                    "account_id",
                    "company_id",
                    "currency_id",
                    "date_maturity",
                    "amount_currency",
                    "parent_state",
                ],
            ),
            ("account.move", ["move_type", "amount_total", "debt_policy_id"]),
            ("res.partner", ["commercial_partner_id"]),
            ("account.partial.reconcile", ["debit_move_id", "max_date", "debit_amount_currency"]),
            ("debt.recovery.charge", ["move_id"]),
            ("debt.recovery.charge.line", ["item_id", "kind", "date_to"]),
        ):
            self.env[model].flush_model(fnames)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT line.id, line.date_maturity, line.amount_currency, line.currency_id,
                       line.company_id, line.move_id, move.amount_total, move.debt_policy_id,
                       partner.commercial_partner_id
                  FROM account_move_line line
                  JOIN account_move move ON move.id = line.move_id
                  JOIN res_partner partner ON partner.id = line.partner_id
                  JOIN account_account account ON account.id = line.account_id
                 WHERE line.id IN %(ids)s
                   AND line.parent_state = 'posted'
                   AND account.account_type = 'asset_receivable'
                   AND move.move_type = 'out_invoice'
                   AND line.amount_currency > 0
                   AND line.date_maturity < %(today)s
                   AND NOT EXISTS (
                       SELECT 1 FROM debt_recovery_charge charge WHERE charge.move_id = move.id
                   )
                 ORDER BY line.date_maturity, line.id
                """,
                ids=ids,
                today=today,
            )
        )
        if not rows:
            return {}
        late_ids = tuple(row[0] for row in rows)
        # What was charged or waived is no longer owed: interest up to the
        # last period's end, the compensation once.
        charged = defaultdict(dict)
        for line_id, kind, date_to in self.env.execute_query(
            SQL(
                "SELECT item_id, kind, MAX(date_to) FROM debt_recovery_charge_line "
                "WHERE item_id IN %s GROUP BY item_id, kind",
                late_ids,
            )
        ):
            charged[line_id][kind] = date_to
        payments = defaultdict(list)
        for line_id, day, amount in self.env.execute_query(
            SQL(
                "SELECT debit_move_id, max_date, debit_amount_currency "
                "FROM account_partial_reconcile WHERE debit_move_id IN %s",
                late_ids,
            )
        ):
            payments[line_id].append((day, amount))
        table = self.env["debt.recovery.reference.rate"]._debt_rate_table()
        settings = self._debt_late_payment_settings(rows)
        money = LateMoney(self.env, today)
        figures = {}
        compensated = set()
        for line_id, due, amount, currency_id, company_id, move_id, total, _p, _c in rows:
            rule, consumer, contract_rate = settings[line_id]
            if not rule:
                continue
            interest_to = charged[line_id].get("interest")
            accrual = accrue(
                rule,
                table,
                amount,
                due,
                payments[line_id],
                today,
                consumer=consumer,
                contract_rate=contract_rate,
                since=interest_to and interest_to + ONE_DAY,
            )
            fixed = 0.0
            # Once a late invoice: on its first late item, if not charged.
            if move_id not in compensated:
                compensated.add(move_id)
                if "compensation" not in charged[line_id]:
                    fixed = money.compensation(rule, total, currency_id, company_id, consumer)
            figures[line_id] = LatePayment(
                rule=rule.code,
                accrual=accrual,
                interest=money.round(accrual.interest, currency_id),
                compensation=fixed,
            )
        return figures

    def _debt_late_payment_settings(self, rows):
        """{item id: (late_payment.Rule or None, consumer, contract rate)} of
        the rows of ``_debt_late_payment`` (``_debt_item_policies``)."""
        policies = self._debt_item_policies([(row[0], row[4], row[8], row[7]) for row in rows])
        rules = {}
        result = {}
        for line_id, (policy, company, customer) in policies.items():
            if (policy, company) not in rules:
                rules[policy, company] = policy._debt_late_payment_rule(company)
            result[line_id] = (
                rules[policy, company],
                not customer.is_company,
                customer.debt_contract_rate or None,
            )
        return result

    @api.model
    def _debt_item_policies(self, rows):
        """{item id: (policy, company, customer)} of ``rows``: ``[(item id,
        company id, customer id, invoice policy id)]``. The policy is the
        invoice's, else the customer's, else the company's default (the
        customer's is company-dependent: read in each company, a company's
        customers at once); the customer is read in the item's company."""
        Policy = self.env["debt.recovery.policy"]
        companies = self.env["res.company"].browse({row[1] for row in rows})
        defaults = Policy._get_company_defaults(companies)
        by_company = defaultdict(set)
        for _line_id, company_id, customer_id, _policy_id in rows:
            by_company[company_id].add(customer_id)
        customers = {}
        for company in companies:
            for customer in (
                self.env["res.partner"].with_company(company).browse(by_company[company.id])
            ):
                customers[customer.id, company.id] = customer
        invoice_policies = Policy.browse({row[3] for row in rows if row[3]})
        result = {}
        for line_id, company_id, customer_id, policy_id in rows:
            company = companies.browse(company_id)
            customer = customers[customer_id, company_id]
            policy = (
                invoice_policies.browse(policy_id)
                if policy_id
                else customer.debt_policy_id or defaults.get(company, Policy)
            )
            result[line_id] = (policy, company, customer)
        return result

    def _search_debt_limitation_date(self, operator, value):
        """Items whose limitation date compares with ``value`` so, in a fixed
        number of queries: no rule ends sooner than SHORTEST_YEARS after the
        due date, so only the owed items due before ``value`` minus that can
        end on or before it; those are read and computed together."""
        owed = self._debt_limitation_domain()
        if operator in ("=", "!=") and not value:
            return owed if operator == "!=" else self._debt_negate(owed)
        try:
            day = fields.Date.to_date(value) if isinstance(value, str | date) else None
        except ValueError:
            day = None
        if operator not in ("<", "<=", ">", ">=", "=", "!=") or not day:
            raise UserError(
                self.env._(
                    "The limitation date is searched with =, !=, <, <=, > or >= and a date, "
                    "not %(operator)s %(value)s.",
                    operator=operator,
                    value=repr(value),
                )
            )

        def ending(test, until):
            # Ids of the owed items whose date passes ``test``, which may only
            # be true of a date on or before ``until``.
            candidates = self.search(
                [
                    *owed,
                    ("date_maturity", "<=", add_years(until + ONE_DAY, -SHORTEST_YEARS)),
                ]
            )
            return [
                line_id
                for line_id, limitation in candidates._debt_limitation().items()
                if test(limitation.date)
            ]

        if operator == "<":
            return [("id", "in", ending(lambda d: d < day, day))]
        if operator == "<=":
            return [("id", "in", ending(lambda d: d <= day, day))]
        if operator == "=":
            return [("id", "in", ending(lambda d: d == day, day))]
        if operator == "!=":
            return [("id", "not in", ending(lambda d: d == day, day))]
        if operator == ">":
            return [*owed, ("id", "not in", ending(lambda d: d <= day, day))]
        return [*owed, ("id", "not in", ending(lambda d: d < day, day))]

    @api.model
    def _debt_limitation_domain(self):
        """The items that have a limitation date: customer-invoice receivable
        items with a due date, still owed."""
        return [
            *self._debt_open_domain(),
            ("amount_residual", ">", 0),
            ("move_id.move_type", "=", "out_invoice"),
            ("date_maturity", "!=", False),
        ]

    def _debt_limitation(self):
        """{item id: Limitation} of the customer-invoice receivable items among
        these: the rule of each item's policy (that of the company's country
        for a policy with no late-payment law), then one read of all their
        events (``_debt_limitation_of``)."""
        items = self.filtered(
            lambda line: isinstance(line.id, int)
            and line.parent_state == "posted"
            and line.account_type == "asset_receivable"
            and line.move_id.move_type == "out_invoice"
            and line.date_maturity
            and line.amount_residual > 0
        )
        if not items:
            return {}
        policies = self._debt_item_policies(
            [
                (
                    line.id,
                    line.company_id.id,
                    line.partner_id.commercial_partner_id.id,
                    line.move_id.debt_policy_id.id,
                )
                for line in items
            ]
        )
        rows = []
        for line in items:
            policy, company, _customer = policies[line.id]
            rows.append((line.id, policy._debt_limitation_code(company), line.date_maturity))
        return self._debt_limitation_of(rows)

    @api.model
    def _debt_limitation_of(self, rows):
        """{item id: Limitation} of ``rows``: ``[(item id, rule code, due
        date)]``, with the events of all the items read in one query: the
        part payments (a credit note is none), the payment plans agreed and
        the promises taken (acknowledgements), the letters and emails that
        left (written reminders), the claims filed in court (legal steps)."""
        if not rows:
            return {}
        for model, fnames in (
            ("account.partial.reconcile", ["debit_move_id", "credit_move_id", "max_date"]),
            ("account.move.line", ["move_id"]),
            ("account.move", ["move_type"]),
            ("debt.recovery.plan", ["move_line_ids", "date_agreement", "date_acknowledgement"]),
            ("debt.recovery.promise", ["move_line_ids", "date", "date_signed"]),
            ("debt.recovery.communication.line", ["communication_id", "move_line_id"]),
            (
                "debt.recovery.communication",
                ["state", "date_sent", "channel_email", "channel_letter"],
            ),
            ("debt.recovery.legal.action", ["move_line_ids"]),
            ("debt.recovery.legal.step", ["legal_action_id", "kind", "date"]),
        ):
            self.env[model].flush_model(fnames)
        ids = tuple({row[0] for row in rows})
        plans = self.env["debt.recovery.plan"]._fields["move_line_ids"]
        promises = self.env["debt.recovery.promise"]._fields["move_line_ids"]
        legal = self.env["debt.recovery.legal.action"]._fields["move_line_ids"]
        events = defaultdict(list)
        for line_id, day, kind in self.env.execute_query(
            SQL(
                """
                SELECT apr.debit_move_id, apr.max_date, %(part_payment)s
                  FROM account_partial_reconcile apr
                  JOIN account_move_line paid_by ON paid_by.id = apr.credit_move_id
                  JOIN account_move paying ON paying.id = paid_by.move_id
                 WHERE apr.debit_move_id IN %(ids)s AND paying.move_type != 'out_refund'
                UNION ALL
                SELECT rel.%(plan_line)s,
                       COALESCE(plan.date_acknowledgement, plan.date_agreement),
                       %(acknowledgement)s
                  FROM %(plan_rel)s rel
                  JOIN debt_recovery_plan plan ON plan.id = rel.%(plan_id)s
                 WHERE rel.%(plan_line)s IN %(ids)s
                   AND COALESCE(plan.date_acknowledgement, plan.date_agreement) IS NOT NULL
                UNION ALL
                SELECT rel.%(promise_line)s, COALESCE(promise.date_signed, promise.date),
                       CASE WHEN promise.date_signed IS NOT NULL THEN %(acknowledgement)s
                            ELSE %(unsigned)s END
                  FROM %(promise_rel)s rel
                  JOIN debt_recovery_promise promise ON promise.id = rel.%(promise_id)s
                 WHERE rel.%(promise_line)s IN %(ids)s
                UNION ALL
                SELECT line.move_line_id, comm.date_sent, %(written_reminder)s
                  FROM debt_recovery_communication_line line
                  JOIN debt_recovery_communication comm ON comm.id = line.communication_id
                 WHERE line.move_line_id IN %(ids)s AND comm.state = 'sent'
                   AND comm.date_sent IS NOT NULL
                   AND (comm.channel_email OR comm.channel_letter)
                UNION ALL
                SELECT rel.%(legal_line)s, step.date, %(court_claim)s
                  FROM %(legal_rel)s rel
                  JOIN debt_recovery_legal_step step
                    ON step.legal_action_id = rel.%(legal_id)s AND step.kind = 'claim_filed'
                 WHERE rel.%(legal_line)s IN %(ids)s
                """,
                ids=ids,
                part_payment=PART_PAYMENT,
                acknowledgement=ACKNOWLEDGEMENT,
                unsigned=UNSIGNED_ACKNOWLEDGEMENT,
                written_reminder=WRITTEN_REMINDER,
                plan_rel=SQL.identifier(plans.relation),
                plan_id=SQL.identifier(plans.column1),
                plan_line=SQL.identifier(plans.column2),
                promise_rel=SQL.identifier(promises.relation),
                promise_id=SQL.identifier(promises.column1),
                promise_line=SQL.identifier(promises.column2),
                court_claim=COURT_CLAIM,
                legal_rel=SQL.identifier(legal.relation),
                legal_id=SQL.identifier(legal.column1),
                legal_line=SQL.identifier(legal.column2),
            )
        ):
            events[line_id].append((day, kind))
        result = {}
        for line_id, code, date_due in rows:
            history = tuple(sorted(events[line_id]))
            result[line_id] = Limitation(
                rule=code, date=limitation_date(code, date_due, history), events=history
            )
        return result

    def _debt_last_levels(self):
        """{item id: (communication line id, level id, level date)} of each item's
        last communication line, in one query."""
        ids = [line_id for line_id in self.ids if isinstance(line_id, int)]
        if not ids:
            return {}
        self.env["debt.recovery.communication.line"].flush_model(
            ["move_line_id", "level_id", "level_date"]
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT DISTINCT ON (move_line_id) move_line_id, id, level_id, level_date "
                "FROM debt_recovery_communication_line WHERE move_line_id IN %s "
                "ORDER BY move_line_id, id DESC",
                tuple(ids),
            )
        )
        return {row[0]: row[1:] for row in rows}

    @api.depends(
        "debt_dispute_id",
        "debt_promise_id",
        "debt_plan_id",
        "debt_legal_action_id",
        "debt_agency_handoff_id",
        "move_id.debt_no_reminder",
        "debt_case_id.stage_id",
        "partner_id.commercial_partner_id.debt_no_reminder",
        "partner_id.commercial_partner_id.debt_do_not_contact",
    )
    @api.depends_context("company")
    def _compute_debt_exclusion_reason(self):
        for line in self:
            customer = line.partner_id.commercial_partner_id
            if line.debt_time_barred:
                reason = self.env._(
                    "Time-barred: its limitation date was %(date)s",
                    date=fields.Date.to_string(line.debt_limitation_date),
                )
            elif line.debt_dispute_id:
                reason = self.env._(
                    "Disputed: %(reason)s", reason=line.debt_dispute_id.reason_id.name
                )
            elif line.debt_plan_id:
                reason = self.env._("In payment plan %(plan)s", plan=line.debt_plan_id.display_name)
            elif line.debt_promise_id:
                reason = self.env._(
                    "Promised for %(date)s",
                    date=fields.Date.to_string(line.debt_promise_id.date_promised),
                )
            elif line.debt_legal_action_id:
                reason = self.env._(
                    "Under legal action %(action)s",
                    action=line.debt_legal_action_id.display_name,
                )
            elif line.debt_agency_handoff_id:
                reason = self.env._(
                    "With the collection agency %(agency)s",
                    agency=line.debt_agency_handoff_id.agency_id.display_name,
                )
            elif line.move_id.debt_no_reminder:
                reason = self.env._("No reminders for this invoice")
            elif customer.debt_no_reminder:
                reason = self.env._("No reminders for this customer")
            elif customer.debt_do_not_contact:
                reason = self.env._("Customer not to be contacted")
            elif (
                line.debt_case_id.stage_id
                and not line.debt_case_id.is_closed
                and line.debt_case_id.stage_kind not in LADDER_KINDS
            ):
                reason = self.env._(
                    "Case in stage %(stage)s", stage=line.debt_case_id.stage_id.name
                )
            else:
                reason = False
            line.debt_exclusion_reason = reason

    # === BUSINESS METHODS === #
    @api.model
    def _debt_open_domain(self):
        """Open, posted customer receivable items."""
        return [
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]

    @api.model
    def _debt_overdue_domain(self, today):
        """Items with money still owed past their due date (add to the open domain)."""
        return [("date_maturity", "<", today), ("amount_residual", ">", 0)]

    @api.model
    def _debt_days_domain(self, date_field, operator, value, today):
        """Domain on ``date_field`` (a due date) for "days overdue <operator> value".

        Days overdue are ``today - due date`` when positive, 0 otherwise (or when
        there is no due date). Every operator of an integer field (see
        ``_debt_days_search``).
        """
        return self._debt_days_search(
            operator,
            value,
            today,
            # Not "< limit" alone: negated, it would leave out items with no due date.
            lambda limit: [(date_field, "!=", False), (date_field, "<", limit)],
            lambda day: [(date_field, "=", day)],
        )

    @api.model
    def _debt_days_search(self, operator, value, today, overdue_before, due_on):
        """Domain for "days overdue <operator> value", answered as Odoo answers
        on a stored integer field: =, !=, <, <=, >, >=, in, not in, =?, with
        numbers of any size (also in strings), decimals cut to whole days,
        False (or None) for 0.

        Days overdue are never negative, and no due date is more days overdue
        than the first date there is.

        :param overdue_before: function of a date giving the domain of the
                               records overdue before that date ("days overdue
                               > n" is "overdue before today - n").
        :param due_on: function of a date giving the domain of the records
                       whose oldest overdue due date is that date.
        :raise UserError: for any other operator, or a value that is no number.
        """
        negate = self._debt_negate
        if operator in ("in", "not in"):
            values = value if isinstance(value, list | tuple | set) else [value]
            domain = expression.OR(
                [self._debt_days_search("=", val, today, overdue_before, due_on) for val in values]
            )
            if not values:
                domain = expression.FALSE_DOMAIN
            return negate(domain) if operator == "not in" else domain
        if operator == "=?":
            if value is False or value is None:
                return expression.TRUE_DOMAIN
            operator = "="
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise UserError(
                self.env._(
                    "Days overdue cannot be searched with %(operator)s: use =, !=, <, <=, "
                    ">, >=, in or not in.",
                    operator=operator,
                )
            )
        days = self._debt_days_number(value)
        if operator in ("!=", "<", "<="):
            # The complement of =, >=, >.
            opposite = {"!=": "=", "<": ">=", "<=": ">"}[operator]
            return negate(self._debt_days_search(opposite, days, today, overdue_before, due_on))
        # The most days overdue a due date can be (the first date there is).
        most = (today - date.min).days
        if operator == ">=":
            operator, days = ">", days - 1
        if operator == ">":
            if days < 0:
                return expression.TRUE_DOMAIN
            if days >= most:
                return expression.FALSE_DOMAIN
            return overdue_before(fields.Date.subtract(today, days=days))
        # operator "="
        if days < 0 or days > most:
            return expression.FALSE_DOMAIN
        if days == 0:
            return negate(overdue_before(today))
        return due_on(fields.Date.subtract(today, days=days))

    @api.model
    def _debt_days_number(self, value):
        """The whole number of days in a search value, as an integer field
        reads it (False or None: 0; 2.7: 2); infinite values beyond any date."""
        if value is False or value is None:
            return 0
        number = value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if not isinstance(number, int | float) or math.isnan(number):
            raise UserError(self.env._("%(value)s is not a number of days.", value=repr(value)))
        if math.isinf(number):
            return 10**9 if number > 0 else -(10**9)
        return int(number)

    @api.model
    def _debt_negate(self, domain):
        return ["!", *expression.normalize_domain(domain)]

    # === LIMITATION WARNINGS === #
    @api.model
    def _cron_warn_limitation(self):
        """One activity per case whose open items reach their limitation date
        within the company's warning days: for the earliest such date, to the
        case's collector, else a recovery manager; never twice for the same
        case and date (done activities of the type are kept)."""
        today = fields.Date.context_today(self)
        companies = self.env["res.company"].search([("debt_limitation_warning_days", ">", 0)])
        if not companies:
            return
        # No rule ends sooner than SHORTEST_YEARS after the due date: only
        # items due before then can reach their date within the window.
        domain = expression.OR(
            [
                ("company_id", "=", company.id),
                (
                    "date_maturity",
                    "<=",
                    # One day more: a due date of 29 February.
                    add_years(
                        today + timedelta(days=company.debt_limitation_warning_days + 1),
                        -SHORTEST_YEARS,
                    ),
                ),
            ]
            for company in companies
        )
        items = self.search(
            [*self._debt_limitation_domain(), ("debt_case_id", "!=", False), *domain]
        )
        limitations = items._debt_limitation()
        by_case = defaultdict(list)
        for item in items:
            limitation = limitations.get(item.id)
            horizon = today + timedelta(days=item.company_id.debt_limitation_warning_days)
            if limitation and today <= limitation.date <= horizon:
                by_case[item.debt_case_id].append((limitation.date, item))
        if not by_case:
            return
        activity_type = self.env.ref("debt_recovery.mail_activity_type_limitation")
        Activity = self.env["mail.activity"].with_context(active_test=False)
        warned = {
            (activity.res_id, activity.date_deadline)
            for activity in Activity.search(
                [
                    ("res_model", "=", "debt.recovery.case"),
                    ("res_id", "in", [case.id for case in by_case]),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        }
        managers = self.env.ref("debt_recovery.group_debt_recovery_manager").users
        model = self.env["ir.model"]._get_id("debt.recovery.case")
        vals_list = []
        for case, dated in by_case.items():
            first = min(day for day, _item in dated)
            if (case.id, first) in warned:
                continue
            user = (
                case.user_id
                or managers.filtered(lambda u, c=case: c.company_id in u.company_ids)[:1]
                or self.env.user
            )
            invoices = sorted({item.move_id.name for day, item in dated if day == first})
            vals_list.append(
                {
                    "res_model_id": model,
                    "res_id": case.id,
                    "activity_type_id": activity_type.id,
                    "date_deadline": first,
                    "user_id": user.id,
                    "summary": self.env._(
                        "Limitation date %(date)s", date=fields.Date.to_string(first)
                    ),
                    "note": self.env._(
                        "%(invoices)s can no longer be claimed after %(date)s: bring the "
                        "claim or obtain the customer's acknowledgement before then.",
                        invoices=", ".join(invoices),
                        date=fields.Date.to_string(first),
                    ),
                }
            )
        if vals_list:
            # sudo: the cron warns whoever follows each case, whatever its own rights.
            Activity.sudo().create(vals_list)

    # === CRUD / ACCOUNTING HOOKS === #
    def reconcile(self):
        # § 367 BGB (a policy's option): a customer's payment settles its open
        # interest and cost invoices (charges) before the invoices it is
        # matched with.
        charges = self._debt_costs_first()
        if not charges:
            return super().reconcile()
        payments = self.filtered(lambda line: line.balance < 0)
        return self._reconcile_plan([[payments | charges, self]])

    def _debt_costs_first(self):
        """The open receivable items of the charges (interest and costs) that
        a payment among these lines settles first: the customer's, in the same
        company, account and currency, oldest first, when the policy of an
        invoice these lines pay says so. Nothing for a credit note (no
        payment) or a payment of the charges themselves."""
        payments = self.filtered(
            lambda line: line.balance < 0
            and line.account_type == "asset_receivable"
            and (line.payment_id or line.move_id.statement_line_id)
        )
        invoices = self.filtered(
            lambda line: line.balance > 0
            and line.account_type == "asset_receivable"
            and line.move_id.move_type == "out_invoice"
        )
        if not payments or not invoices:
            return self.browse()
        Charge = self.env["debt.recovery.charge"].sudo()
        # sudo: which invoices are charges is read to order the matching of a
        # payment the user may reconcile; nothing of them is shown.
        charge_moves = Charge.search([("move_id", "in", invoices.move_id.ids)]).move_id
        invoices = invoices.filtered(lambda line: line.move_id not in charge_moves)
        if not invoices:
            return self.browse()
        policies = self._debt_item_policies(
            [
                (
                    line.id,
                    line.company_id.id,
                    line.partner_id.commercial_partner_id.id,
                    line.move_id.debt_policy_id.id,
                )
                for line in invoices
            ]
        )
        keys = {
            (
                line.partner_id.commercial_partner_id,
                line.company_id,
                line.account_id,
                line.currency_id,
            )
            for line in invoices
            if policies[line.id][0].allocate_costs_first
        }
        if not keys:
            return self.browse()
        charged = Charge.search(
            [
                ("state", "=", "posted"),
                ("partner_id", "in", [key[0].id for key in keys]),
                ("company_id", "in", [key[1].id for key in keys]),
            ]
        ).move_id
        return (
            charged.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
                and not line.reconciled
                and line.amount_residual > 0
                and (
                    line.partner_id.commercial_partner_id,
                    line.company_id,
                    line.account_id,
                    line.currency_id,
                )
                in keys
            )
            - self
        ).sorted(lambda line: (line.date_maturity or line.date, line.id))

    def _reconcile_plan(self, reconciliation_plan):
        res = super()._reconcile_plan(reconciliation_plan)
        # Once the whole plan is reconciled (and balanced), close the cases
        # of customers who have nothing overdue any more.
        lines = self.browse()
        stack = list(reconciliation_plan)
        while stack:
            item = stack.pop()
            if isinstance(item, models.BaseModel):
                lines |= item
            else:
                stack.extend(item)
        lines._debt_sync_cases_from_lines()
        return res

    def _debt_sync_cases_from_lines(self):
        """Open or close the recovery cases of these lines' customers."""
        if self.env.context.get("debt_recovery_skip_sync"):
            return
        receivables = self.filtered(lambda line: line.account_type == "asset_receivable")
        if receivables.partner_id:
            # sudo: opening and closing cases follows from accounting facts (a
            # payment, a posted invoice) that the current user was allowed to
            # record; it touches only these customers' cases.
            self.env["debt.recovery.case"].sudo()._sync_cases(receivables.partner_id)
