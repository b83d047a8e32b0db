from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, format_date

BANDS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
BAND_ORDER = {"low": 0, "medium": 1, "high": 2}
HISTORY_DAYS = 730
RECENT_DAYS = 183


class DebtRecoveryRisk(models.Model):
    """A customer's payment-behaviour risk in one company, as of its date.

    A dated snapshot recomputed by the daily cron: the figures are those of
    that day, on record, like a report.
    """

    _name = "debt.recovery.risk"
    _description = "Customer Payment Risk"
    _order = "score desc, id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(comodel_name="res.company", required=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="As Of", required=True)
    score = fields.Integer(
        help="0 (pays on time) to 100 (very risky): days late (up to 45 points, recent "
        "months weigh double), share paid late (20), share of the balance overdue (20), "
        "broken promises (10), disputes (5), getting worse than its own past (5). "
        "Low under 25, medium under 50, high from 50."
    )
    band = fields.Selection(selection=BANDS, required=True, default="low")
    reasons = fields.Text()
    avg_days_late = fields.Float(string="Average Days Late")
    recent_days_late = fields.Float(string="Recent Days Late (6 months)")
    past_days_late = fields.Float(string="Earlier Days Late")
    trend_days = fields.Float(
        string="Trend (Days)", help="Recent days late minus the customer's own earlier days late."
    )
    late_share = fields.Float(string="Paid Late (%)")
    overdue_ratio = fields.Float(string="Balance Overdue (%)")
    broken_promises = fields.Integer()
    open_disputes = fields.Integer()
    suggested_credit_limit = fields.Monetary(currency_field="currency_id")
    warned_band = fields.Selection(selection=BANDS, readonly=True)
    warned_recent_days_late = fields.Float(readonly=True)

    _sql_constraints = [
        (
            "partner_company_unique",
            "UNIQUE(partner_id, company_id)",
            "One risk per customer and company.",
        ),
    ]

    # === BUSINESS METHODS === #
    @api.model
    def _cron_compute_risk(self):
        self._compute_all(self.env["res.company"].search([]))

    @api.model
    def _compute_all(self, companies, partners=None):
        """Recompute every customer's risk in ``companies``: a fixed number of queries."""
        today = fields.Date.context_today(self)
        stats = self._collect(companies, today, partners)
        existing = {
            (risk.partner_id.id, risk.company_id.id): risk
            for risk in self.search([("company_id", "in", companies.ids)])
        }
        to_create, changed = [], self.browse()
        for key, values in stats.items():
            vals = self._score(values, today)
            risk = existing.get(key)
            if risk:
                risk.write(vals)
                changed |= risk
            else:
                to_create.append({"partner_id": key[0], "company_id": key[1], **vals})
        changed |= self.create(to_create)
        changed._warn()
        return changed

    @api.model
    def _collect(self, companies, today, partners=None):
        since = today - timedelta(days=HISTORY_DAYS)
        recent = today - timedelta(days=RECENT_DAYS)
        partner_filter = SQL("")
        if partners is not None:
            partner_filter = SQL("AND p.commercial_partner_id IN %s", tuple(partners.ids) or (0,))
        # Settled items: days between due date and the last reconciliation.
        rows = self.env.execute_query(
            SQL(
                """
                SELECT p.commercial_partner_id, l.company_id,
                       l.date_maturity >= %(recent)s AS is_recent,
                       COUNT(*),
                       SUM(GREATEST(settled.max_date - l.date_maturity, 0)),
                       SUM(CASE WHEN settled.max_date > l.date_maturity THEN 1 ELSE 0 END),
                       SUM(l.balance)
                  FROM account_move_line l
                  JOIN account_account a ON a.id = l.account_id
                  JOIN res_partner p ON p.id = l.partner_id
                  JOIN LATERAL (
                        SELECT MAX(pr.max_date) AS max_date
                          FROM account_partial_reconcile pr
                         WHERE pr.debit_move_id = l.id
                  ) settled ON TRUE
                 WHERE a.account_type = 'asset_receivable'
                   AND l.parent_state = 'posted'
                   AND l.reconciled
                   AND l.balance > 0
                   AND l.date_maturity >= %(since)s
                   AND l.company_id IN %(companies)s
                   AND settled.max_date IS NOT NULL
                   %(partner_filter)s
              GROUP BY 1, 2, 3
                """,
                recent=recent,
                since=since,
                companies=tuple(companies.ids),
                partner_filter=partner_filter,
            )
        )
        stats = defaultdict(lambda: defaultdict(float))
        for partner_id, company_id, is_recent, count, days, late, volume in rows:
            values = stats[partner_id, company_id]
            prefix = "recent" if is_recent else "past"
            values[f"{prefix}_count"] += count
            values[f"{prefix}_days"] += days
            values["late"] += late
            values["volume"] += volume or 0.0
        # Open items: overdue ratio, both net of the open credits in their
        # currency (as the customer form and the reminders show them).
        self._collect_open(stats, companies, today, partners)
        # Broken promises and disputes of the last two years.
        keys = {
            "broken": ("debt.recovery.promise", [("state", "=", "broken")]),
            "disputes": ("debt.recovery.dispute", [("state", "!=", "resolved")]),
        }
        for name, (model, domain) in keys.items():
            for partner, company, count in (
                self.env[model]
                .sudo()
                ._read_group(
                    [*domain, ("company_id", "in", companies.ids), ("date", ">=", since)],
                    ["partner_id", "company_id"],
                    ["__count"],
                )
            ):
                if partners is None or partner in partners:
                    stats[partner.id, company.id][name] += count
        return stats

    @api.model
    def _collect_open(self, stats, companies, today, partners=None):
        """Add to ``stats`` the open balance ("open") and the overdue part
        ("overdue") of each customer, net of its open credits (credit notes,
        unapplied payments) per currency: ``max(0, amount - credits)``.

        Three grouped queries, and one per company for the policies that keep
        credits apart (their customers' figures stay gross).
        """
        AccountMoveLine = self.env["account.move.line"]
        open_domain = [("company_id", "in", companies.ids), *AccountMoveLine._debt_open_domain()]
        if partners is not None:
            open_domain.append(("partner_id.commercial_partner_id", "in", partners.ids))
        groupby = ["partner_id", "company_id", "currency_id"]
        figures = defaultdict(lambda: dict.fromkeys(("open", "overdue", "credit"), 0.0))
        for name, domain in (
            ("open", [("amount_residual", ">", 0)]),
            ("overdue", AccountMoveLine._debt_overdue_domain(today)),
            ("credit", [("amount_residual", "<", 0)]),
        ):
            for partner, company, currency, amount in AccountMoveLine._read_group(
                [*open_domain, *domain], groupby, ["amount_residual:sum"]
            ):
                key = (partner.commercial_partner_id, company)
                figures[key, currency][name] += abs(amount)
        Partner = self.env["res.partner"]
        apart = {
            (customer, company)
            for company in companies
            for customer in Partner._debt_credits_kept_apart(
                Partner.concat(
                    *(
                        key[0]
                        for (key, _c), fig in figures.items()
                        if key[1] == company and fig["credit"]
                    )
                ),
                company,
            )
        }
        for (key, _currency), figure in figures.items():
            if not figure["open"]:
                continue  # only credits in that currency: nothing owed there
            credit = 0.0 if key in apart else figure["credit"]
            values = stats[key[0].id, key[1].id]
            values["open"] += max(0.0, figure["open"] - credit)
            values["overdue"] += max(0.0, figure["overdue"] - credit)

    @api.model
    def _score(self, values, today):
        env = self.env
        past_count, recent_count = values["past_count"], values["recent_count"]
        past = values["past_days"] / past_count if past_count else 0.0
        recent = values["recent_days"] / recent_count if recent_count else past
        count = past_count + recent_count
        weighted = (
            (2 * recent * recent_count + past * past_count) / (2 * recent_count + past_count)
            if count
            else 0.0
        )
        late_share = values["late"] / count * 100.0 if count else 0.0
        overdue_ratio = values["overdue"] / values["open"] * 100.0 if values["open"] else 0.0
        trend = recent - past if past_count and recent_count else 0.0
        score = (
            min(weighted / 45.0, 1.0) * 45
            + late_share / 100.0 * 20
            + overdue_ratio / 100.0 * 20
            + min(values["broken"] * 5, 10)
            + min(values["disputes"] * 2.5, 5)
            + (min(trend / 30.0, 1.0) * 5 if trend > 0 else 0)
        )
        score = int(round(min(max(score, 0), 100)))
        band = "low" if score < 25 else "medium" if score < 50 else "high"
        reasons = []
        if count:
            reasons.append(env._("pays %(days)s days late on average", days=round(weighted)))
            reasons.append(env._("%(share)s%% of invoices paid late", share=round(late_share)))
        if overdue_ratio:
            reasons.append(
                env._("%(ratio)s%% of the balance is overdue", ratio=round(overdue_ratio))
            )
        if values["broken"]:
            reasons.append(env._("%(count)s broken promise(s)", count=int(values["broken"])))
        if values["disputes"]:
            reasons.append(env._("%(count)s dispute(s)", count=int(values["disputes"])))
        if trend >= 10:
            reasons.append(env._("paying later than usual (+%(days)s days)", days=round(trend)))
        monthly = values["volume"] / (HISTORY_DAYS / 30.0)
        factor = {"low": 2.0, "medium": 1.0, "high": 0.5}[band]
        return {
            "date": today,
            "score": score,
            "band": band,
            "reasons": "; ".join(reasons),
            "avg_days_late": weighted,
            "recent_days_late": recent,
            "past_days_late": past,
            "trend_days": trend,
            "late_share": late_share,
            "overdue_ratio": overdue_ratio,
            "broken_promises": int(values["broken"]),
            "open_disputes": int(values["disputes"]),
            "suggested_credit_limit": round(monthly * factor / 100.0) * 100.0,
        }

    def _warn(self):
        """Early warning, once: a worse band, or recent payments much later than usual."""
        for risk in self:
            worse_band = BAND_ORDER[risk.band] > BAND_ORDER.get(risk.warned_band or "low", 0)
            jump = (
                risk.trend_days >= 15 and risk.recent_days_late > risk.warned_recent_days_late + 5
            )
            if not (worse_band or jump):
                if BAND_ORDER[risk.band] < BAND_ORDER.get(risk.warned_band or "low", 0):
                    risk.warned_band = risk.band  # improved: warn again if it worsens
                continue
            risk.write({"warned_band": risk.band, "warned_recent_days_late": risk.recent_days_late})
            case = (
                self.env["debt.recovery.case"]
                .sudo()
                .search(
                    [
                        ("partner_id", "=", risk.partner_id.id),
                        ("company_id", "=", risk.company_id.id),
                        ("is_closed", "=", False),
                    ],
                    limit=1,
                )
            )
            body = self.env._(
                "Early warning: payment risk %(score)s/100 (%(band)s): %(reasons)s.",
                score=risk.score,
                band=dict(BANDS)[risk.band],
                reasons=risk.reasons,
            )
            thread = case or risk.partner_id.sudo()
            thread.message_post(body=body, subtype_xmlid="mail.mt_note")
            thread.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Payment risk rising"),
                note=body,
                user_id=(case.user_id or self.env.user).id,
            )

    # === ACTION METHODS === #
    def action_apply_suggested_limit(self):
        """Set the customers' credit limit to the suggested one (Recovery
        Managers only: a public method, callable by whoever reads the risk)."""
        Partner = self.env["res.partner"]
        Partner._debt_ensure_manager(
            self.env._("Only a Recovery Manager can change credit limits.")
        )
        for risk in self:
            if risk.company_id not in self.env.user.company_ids:
                raise AccessError(
                    self.env._(
                        "You cannot change credit limits in %(company)s.",
                        company=risk.company_id.display_name,
                    )
                )
            risk.partner_id.with_company(risk.company_id)._debt_set_credit_limit(
                risk.suggested_credit_limit,
                self.env._(
                    "the suggested limit of the payment risk assessment of %(date)s "
                    "(risk %(score)s/100)",
                    date=format_date(self.env, risk.date),
                    score=risk.score,
                ),
            )
