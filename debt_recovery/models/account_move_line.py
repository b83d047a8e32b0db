from collections import namedtuple
from datetime import timedelta

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

PAUSE_FIELDS = {
    "debt.recovery.dispute": "debt_dispute_id",
    "debt.recovery.promise": "debt_promise_id",
    "debt.recovery.plan": "debt_plan_id",
}

# An item reaching a new level today, as plain values (not a record).
EscalationItem = namedtuple(
    "EscalationItem",
    "line_id customer_id company_id currency_id date_maturity "
    "amount_residual amount_residual_currency level",
)


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

    # === COMPUTE METHODS === #
    @api.depends("debt_communication_line_ids.level_id", "debt_communication_line_ids.level_date")
    def _compute_debt_level(self):
        latest = self._debt_last_levels()
        Level = self.env["debt.recovery.level"]
        for line in self:
            _sent_id, level_id, level_date = latest.get(line.id, (None, None, False))
            line.debt_level_id = Level.browse(level_id)
            line.debt_level_date = level_date

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

    @api.depends("debt_dispute_id", "debt_promise_id", "debt_plan_id", "move_id.debt_no_reminder")
    @api.depends_context("company")
    def _compute_debt_exclusion_reason(self):
        for line in self:
            customer = line.partner_id.commercial_partner_id
            if line.debt_dispute_id:
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
            elif line.move_id.debt_no_reminder:
                reason = self.env._("No reminders for this invoice")
            elif customer.debt_no_reminder:
                reason = self.env._("No reminders for this customer")
            elif customer.debt_do_not_contact:
                reason = self.env._("Customer not to be contacted")
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
        there is no due date). Supports =, !=, <, <=, >, >=.
        """
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise NotImplementedError(operator)
        value = int(value or 0)
        if operator == ">=":
            operator, value = ">", value - 1
        elif operator == "<":
            return self._debt_negate(self._debt_days_domain(date_field, ">=", value, today))
        elif operator == "<=":
            return self._debt_negate(self._debt_days_domain(date_field, ">", value, today))
        elif operator == "!=":
            return self._debt_negate(self._debt_days_domain(date_field, "=", value, today))
        if operator == ">":
            if value < 0:
                return expression.TRUE_DOMAIN
            limit = fields.Date.subtract(today, days=value)
            return [(date_field, "<", limit)]
        # operator "="
        if value < 0:
            return expression.FALSE_DOMAIN
        if value == 0:
            return ["|", (date_field, "=", False), (date_field, ">=", today)]
        return [(date_field, "=", fields.Date.subtract(today, days=value))]

    def _debt_are_open_items_of(self, customer):
        """Whether these are all open receivable items of ``customer`` (a plan,
        a promise or a dispute covers nothing else)."""
        return self.partner_id.commercial_partner_id == customer and not any(
            line.account_type != "asset_receivable" or line.reconciled for line in self
        )

    @api.model
    def _debt_negate(self, domain):
        return ["!", *expression.normalize_domain(domain)]

    # === CRUD / ACCOUNTING HOOKS === #
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

    # === ESCALATION === #
    @api.model
    def _debt_escalation_domain(self):
        """Items the escalation may work on (narrowed by plans, promises, disputes):
        not flagged "no reminder" on their invoice or their customer."""
        return [
            ("debt_dispute_id", "=", False),
            ("debt_promise_id", "=", False),
            ("debt_plan_id", "=", False),
            ("move_id.debt_no_reminder", "!=", True),
            ("partner_id.commercial_partner_id.debt_no_reminder", "!=", True),
        ]

    @api.model
    def _debt_escalation_targets(self, today, companies, partners=None):
        """Items reaching a new level today, as ``[EscalationItem]``.

        A fixed number of queries whatever the number of items: one query reads
        the items as plain rows (a large ledger has tens of thousands: no
        records for them) with their invoice's and customer's settings, and
        the levels are worked out from the policies' ladders.
        """
        Policy = self.env["debt.recovery.policy"]
        defaults = Policy._get_company_defaults(companies)
        if not defaults:
            return []
        levels = self.env["debt.recovery.level"].search([("company_id", "in", companies.ids)])
        ahead = max([0, *(-days for days in levels.mapped("days"))])
        domain = [
            *self._debt_open_domain(),
            ("amount_residual", ">", 0),
            ("company_id", "in", companies.ids),
            ("date_maturity", "<=", today + timedelta(days=ahead)),
            *self._debt_escalation_domain(),
        ]
        if partners is not None:
            domain.append(("partner_id.commercial_partner_id", "in", partners.ids))
        self.env.flush_all()
        query = self._search(domain, order="id")
        alias = query.table
        partner = query.join(alias, "partner_id", "res_partner", "id", "debt_partner")
        customer = query.join(partner, "commercial_partner_id", "res_partner", "id", "customer")
        Partner = self.env["res.partner"]

        def customer_setting(fname):
            # Company-dependent: the value in the item's company, as the ORM
            # reads it there (with its fallback).
            return SQL(
                "CASE %s %s END",
                SQL.identifier(alias, "company_id"),
                SQL(" ").join(
                    SQL(
                        "WHEN %s THEN %s",
                        company.id,
                        Partner.with_company(company)._field_to_sql(customer, fname, query),
                    )
                    for company in companies
                ),
            )

        rows = self.env.execute_query(
            query.select(
                SQL.identifier(alias, "id"),
                SQL.identifier(customer, "id"),
                SQL.identifier(alias, "company_id"),
                SQL.identifier(alias, "currency_id"),
                SQL.identifier(alias, "date_maturity"),
                SQL.identifier(alias, "amount_residual"),
                SQL.identifier(alias, "amount_residual_currency"),
                SQL(
                    "(SELECT debt_policy_id FROM account_move WHERE id = %s)",
                    SQL.identifier(alias, "move_id"),
                ),
                *(
                    SQL(
                        "(SELECT %s FROM debt_recovery_communication_line "
                        "WHERE move_line_id = %s ORDER BY id DESC LIMIT 1)",
                        SQL.identifier(column),
                        SQL.identifier(alias, "id"),
                    )
                    for column in ("level_id", "level_date")
                ),
                customer_setting("debt_policy_id"),
                customer_setting("debt_do_not_contact"),
                customer_setting("debt_quiet_until"),
            )
        )
        if not rows:
            return []
        policy_ids = {row[7] for row in rows if row[7]} | {row[10] for row in rows if row[10]}
        policy_of = {policy.id: policy for policy in Policy.browse(policy_ids)}
        default_of = {company.id: policy for company, policy in defaults.items()}
        ladders = {}
        targets = []
        # A row: the seven EscalationItem values, the invoice's policy, the
        # item's last level and its date, then the customer's policy, "do not
        # contact" and quiet period in the item's company.
        for row in rows:
            if row[11] or (row[12] and row[12] >= today):
                continue
            policy = policy_of.get(row[7]) or policy_of.get(row[10]) or default_of.get(row[2])
            if not policy:
                continue
            if policy not in ladders:
                ladders[policy] = self._debt_ladder(policy)
            level = self._debt_next_level(ladders[policy], today, row[4], row[8], row[9])
            if level:
                targets.append(EscalationItem(*row[:7], level))
        return targets

    @api.model
    def _debt_ladder(self, policy):
        """``policy``'s levels in order, with their delays as plain values (the
        escalation places tens of thousands of items on it)."""
        levels = policy.level_ids.sorted(lambda lv: (lv.sequence, lv.id))
        days = levels.mapped("days")
        return {
            "levels": list(levels),
            "days": days,
            "gaps": levels.mapped("min_days_since_previous"),
            "index": {level.id: index for index, level in enumerate(levels)},
            "climb": policy.climb_one_level,
            # An item already due does not climb through courtesy levels.
            "first_due": next((index for index, day in enumerate(days) if day >= 0), 0),
        }

    @api.model
    def _debt_next_level(self, ladder, today, date_maturity, current_id, level_date):
        """The level an item due on ``date_maturity`` reaches today on
        ``ladder`` (see ``_debt_ladder``), or None; ``current_id`` is the last
        level it was sent, on ``level_date``."""
        age = (today - date_maturity).days
        days = ladder["days"]
        eligible = sum(1 for day in days if day <= age)
        if not eligible:
            return None
        if current_id in ladder["index"]:
            current_index = ladder["index"][current_id]
        elif current_id:
            # The policy changed: place the item by the age of its last level.
            current_days = self.env["debt.recovery.level"].browse(current_id).days
            current_index = sum(1 for day in days if day <= current_days) - 1
        else:
            current_index = -1
        target_index = eligible - 1
        if ladder["climb"]:
            first = 0 if age < 0 else ladder["first_due"]
            target_index = min(max(current_index + 1, first), target_index)
        if target_index <= current_index:
            return None
        if current_id and level_date and (today - level_date).days < ladder["gaps"][target_index]:
            return None
        return ladder["levels"][target_index]

    def _debt_end_pause(self, pause, paused_days):
        """Release these items from ``pause`` (a dispute, a promise or a plan).

        The paused days do not count as time since the items' last level.
        """
        fname = PAUSE_FIELDS[pause._name]
        # sudo: the pause fields are read-only on journal items; releasing them
        # follows from the pause's own (access-checked) state change.
        lines = self.filtered_domain([(fname, "=", pause.id)]).sudo()
        lines._debt_shift_level_dates(paused_days)
        lines.write({fname: False})

    def _debt_shift_level_dates(self, days):
        """Move the last level dates forward: a pause does not count as waiting."""
        if not self or days <= 0:
            return
        last = [sent_id for sent_id, _level, _date in self._debt_last_levels().values()]
        if not last:
            return
        self.env.execute_query(
            SQL(
                "UPDATE debt_recovery_communication_line SET level_date = level_date + %s "
                "WHERE id IN %s AND level_date IS NOT NULL",
                days,
                tuple(last),
            )
        )
        self.env["debt.recovery.communication.line"].browse(last).invalidate_recordset(
            ["level_date"]
        )
        self.invalidate_recordset(["debt_level_date"])
