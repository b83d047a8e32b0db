import io

import xlsxwriter

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .debt_recovery_aged_receivable_item import bucket_labels

# The ageing periods of a report, in days after the due date (the last
# bucket is everything older than the last of them).
DEFAULT_PERIODS = (30, 60, 90, 120)
MAX_PERIOD_DAYS = 3650


class DebtRecoveryAgedReceivable(models.TransientModel):
    """The aged receivable at a date: what each customer owed that day, by
    how long past its due date, from the journal items and their
    reconciliations as they stood then (a past date gives the ageing as it
    was, whatever was paid since).

    The items' rows (``debt.recovery.aged.receivable.item``) are made in one
    query; the pivot on them is the report (customers by bucket, a cell opens
    its items), exported to XLSX by the pivot and printed to PDF here."""

    _name = "debt.recovery.aged.receivable"
    _description = "Aged Receivable"

    # === FIELDS === #
    date_at = fields.Date(
        string="At",
        required=True,
        default=fields.Date.context_today,
        help="The ageing as it was at the end of this day: items dated after it and "
        "payments matched after it are left out.",
    )
    company_ids = fields.Many2many(
        comodel_name="res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    user_ids = fields.Many2many(comodel_name="res.users", string="Collectors")
    stage_ids = fields.Many2many(comodel_name="debt.recovery.stage", string="Stages")
    policy_ids = fields.Many2many(comodel_name="debt.recovery.policy", string="Policies")
    category_ids = fields.Many2many(comodel_name="res.partner.category", string="Customer Tags")
    country_ids = fields.Many2many(comodel_name="res.country", string="Countries")
    period_1 = fields.Integer(string="Period 1 Ends (Days)", default=DEFAULT_PERIODS[0])
    period_2 = fields.Integer(string="Period 2 Ends (Days)", default=DEFAULT_PERIODS[1])
    period_3 = fields.Integer(string="Period 3 Ends (Days)", default=DEFAULT_PERIODS[2])
    period_4 = fields.Integer(string="Period 4 Ends (Days)", default=DEFAULT_PERIODS[3])
    item_ids = fields.One2many(
        comodel_name="debt.recovery.aged.receivable.item", inverse_name="report_id"
    )
    item_count = fields.Integer(compute="_compute_totals")
    currency_id = fields.Many2one(
        comodel_name="res.currency", compute="_compute_totals", string="Company Currency"
    )
    amount_total = fields.Monetary(
        string="Total Receivable", compute="_compute_totals", currency_field="currency_id"
    )

    # === COMPUTE METHODS === #
    @api.depends("date_at")
    def _compute_display_name(self):
        for report in self:
            report.display_name = self.env._(
                "Aged Receivable at %(date)s",
                date=fields.Date.to_string(report.date_at) if report.date_at else "",
            )

    @api.depends("item_ids.amount")
    def _compute_totals(self):
        for report in self:
            report.item_count = len(report.item_ids)
            report.currency_id = report.company_ids[:1].currency_id or self.env.company.currency_id
            report.amount_total = sum(report.item_ids.mapped("amount"))

    # === CONSTRAINT METHODS === #
    @api.constrains("period_1", "period_2", "period_3", "period_4")
    def _check_periods(self):
        for report in self:
            periods = report._periods()
            if periods[0] < 1 or any(b <= a for a, b in zip(periods, periods[1:], strict=False)):
                raise ValidationError(
                    self.env._(
                        "The ageing periods end on increasing numbers of days, the first at "
                        "least 1 (e.g. 30, 60, 90, 120)."
                    )
                )
            if periods[-1] > MAX_PERIOD_DAYS:
                raise ValidationError(
                    self.env._(
                        "An ageing period cannot end after %(max)s days.", max=MAX_PERIOD_DAYS
                    )
                )

    # === ACTION METHODS === #
    def action_view(self):
        """Compute the ageing and show it: customers by bucket."""
        self.ensure_one()
        self._compute_items()
        periods = self._periods()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Aged Receivable at %(date)s",
                date=fields.Date.to_string(self.date_at),
            ),
            "res_model": "debt.recovery.aged.receivable.item",
            "view_mode": "pivot,list,graph",
            "views": [(False, "pivot"), (False, "list"), (False, "graph")],
            "domain": [("report_id", "=", self.id)],
            "context": {
                "debt_aging_periods": list(periods),
                "pivot_measures": ["amount"],
                "pivot_row_groupby": ["partner_id"],
                "pivot_column_groupby": ["bucket"],
            },
        }

    def action_print(self):
        self.ensure_one()
        self._compute_items()
        return self.env.ref("debt_recovery.action_report_aged_receivable").report_action(self)

    def action_export_xlsx(self):
        """The report as an XLSX workbook (Odoo's own xlsx writer), downloaded."""
        self.ensure_one()
        self._compute_items()
        attachment = self.env["ir.attachment"].create(
            {
                "name": self.env._(
                    "Aged Receivable %(date)s.xlsx", date=fields.Date.to_string(self.date_at)
                ),
                "raw": self._xlsx(),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "debt_recovery_download",
            "params": {"url": f"/web/content/{attachment.id}?download=true"},
        }

    # === BUSINESS METHODS === #
    def _periods(self):
        self.ensure_one()
        return (self.period_1, self.period_2, self.period_3, self.period_4)

    def _compute_items(self):
        """Replace the report's rows by the receivable items open at its date,
        in one query: each item's amount then is what it owes now plus what
        was matched with it after that day (``account.partial.reconcile.
        max_date``), in company currency and in its own; so only the items
        open now (Odoo's index of unreconciled items) and those matched
        since are read, never the whole ledger. A credit (a payment, a
        credit note not yet matched) is netted as its own column."""
        self.ensure_one()
        companies = self.company_ids & self.env.companies
        if not companies:
            raise UserError(self.env._("Choose at least one of your companies."))
        self.item_ids.unlink()
        periods = self._periods()
        Item = self.env["debt.recovery.aged.receivable.item"]
        self.env.flush_all()
        accounts = tuple(
            self.env["account.account"]
            .with_context(active_test=False)
            .search(
                [("account_type", "=", "asset_receivable"), ("company_ids", "in", companies.ids)]
            )
            .ids
        ) or (0,)
        conditions = [SQL("TRUE")]
        if self.user_ids:
            conditions.append(SQL("cs.user_id IN %s", tuple(self.user_ids.ids)))
        if self.stage_ids:
            conditions.append(SQL("cs.stage_id IN %s", tuple(self.stage_ids.ids)))
        if self.country_ids:
            conditions.append(SQL("customer.country_id IN %s", tuple(self.country_ids.ids)))
        if self.category_ids:
            conditions.append(
                SQL(
                    "EXISTS (SELECT 1 FROM res_partner_res_partner_category_rel tag "
                    "WHERE tag.partner_id = customer.id AND tag.category_id IN %s)",
                    tuple(self.category_ids.ids),
                )
            )
        if self.policy_ids:
            defaults = self.env["debt.recovery.policy"]._get_company_defaults(companies)
            default_rows = [(company.id, policy.id) for company, policy in defaults.items()]
            conditions.append(
                SQL(
                    "COALESCE(move.debt_policy_id, "
                    "(customer.debt_policy_id ->> open_item.company_id::text)::int, "
                    "(SELECT d.policy FROM (VALUES %s) AS d(company, policy) "
                    "WHERE d.company = open_item.company_id)) IN %s",
                    SQL(", ").join(SQL("(%s, %s)", *row) for row in default_rows)
                    if default_rows
                    else SQL("(0, 0)"),
                    tuple(self.policy_ids.ids),
                )
            )
        self.env.execute_query(
            SQL(
                """
                WITH late_match AS (
                    -- Matched after the date: still open at it.
                    SELECT line_id, SUM(amount) AS amount, SUM(amount_currency) AS amount_currency
                      FROM (
                            SELECT debit_move_id AS line_id, amount,
                                   debit_amount_currency AS amount_currency
                              FROM account_partial_reconcile
                             WHERE max_date > %(date)s AND company_id IN %(companies)s
                         UNION ALL
                            SELECT credit_move_id, -amount, -credit_amount_currency
                              FROM account_partial_reconcile
                             WHERE max_date > %(date)s AND company_id IN %(companies)s
                           ) late
                     GROUP BY line_id
                ), candidate AS (
                    -- Open now (Odoo's index of unreconciled items), or matched since.
                    SELECT line.id
                      FROM account_move_line line
                     WHERE line.account_id IN %(accounts)s
                       AND (line.reconciled IS NULL OR line.reconciled = false
                            OR line.reconciled IS NOT true)
                       AND line.parent_state = 'posted'
                     UNION
                    SELECT line_id FROM late_match
                ), open_item AS (
                    SELECT line.id, line.move_id, line.company_id, line.currency_id,
                           partner.commercial_partner_id AS customer_id,
                           COALESCE(line.date_maturity, line.date) AS date_due,
                           line.amount_residual + COALESCE(late.amount, 0) AS amount,
                           line.amount_residual_currency + COALESCE(late.amount_currency, 0)
                               AS amount_currency
                      FROM candidate
                      JOIN account_move_line line ON line.id = candidate.id
                      JOIN res_partner partner ON partner.id = line.partner_id
                 LEFT JOIN late_match late ON late.line_id = line.id
                     WHERE line.account_id IN %(accounts)s
                       AND line.parent_state = 'posted'
                       AND line.date <= %(date)s
                       AND line.company_id IN %(companies)s
                       AND line.amount_residual + COALESCE(late.amount, 0) != 0
                )
                INSERT INTO debt_recovery_aged_receivable_item (
                    report_id, move_line_id, move_id, partner_id, company_id,
                    company_currency_id, currency_id, user_id, stage_id, country_id,
                    date_maturity, days_overdue, bucket, amount, amount_currency,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT %(report)s, open_item.id, open_item.move_id, open_item.customer_id,
                       open_item.company_id, company.currency_id, open_item.currency_id,
                       cs.user_id, cs.stage_id, customer.country_id, open_item.date_due,
                       %(date)s - open_item.date_due,
                       CASE WHEN open_item.amount < 0 THEN 'b6_credit'
                            WHEN open_item.date_due >= %(date)s THEN 'b0_not_due'
                            WHEN %(date)s - open_item.date_due <= %(p1)s THEN 'b1'
                            WHEN %(date)s - open_item.date_due <= %(p2)s THEN 'b2'
                            WHEN %(date)s - open_item.date_due <= %(p3)s THEN 'b3'
                            WHEN %(date)s - open_item.date_due <= %(p4)s THEN 'b4'
                            ELSE 'b5_older' END,
                       open_item.amount, open_item.amount_currency,
                       %(uid)s, %(uid)s, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                  FROM open_item
                  JOIN account_move move ON move.id = open_item.move_id
                  JOIN res_partner customer ON customer.id = open_item.customer_id
                  JOIN res_company company ON company.id = open_item.company_id
             LEFT JOIN debt_recovery_case cs
                    ON cs.partner_id = open_item.customer_id
                   AND cs.company_id = open_item.company_id
                   AND cs.is_closed IS NOT TRUE AND cs.active IS TRUE
                 WHERE %(conditions)s
                """,
                date=self.date_at,
                companies=tuple(companies.ids),
                accounts=accounts,
                report=self.id,
                p1=periods[0],
                p2=periods[1],
                p3=periods[2],
                p4=periods[3],
                uid=self.env.uid,
                conditions=SQL(" AND ").join(conditions),
            )
        )
        Item.invalidate_model()
        self.invalidate_recordset(["item_ids"])

    def _summary(self):
        """The report's rows for print and export: [(customer, company,
        {bucket: amount}, total)] in company currency, by customer name, and
        the totals per bucket and per currency, in one grouped read."""
        self.ensure_one()
        Item = self.env["debt.recovery.aged.receivable.item"]
        rows = {}
        totals = {}
        groups = Item._read_group(
            [("report_id", "=", self.id)],
            ["partner_id", "company_id", "bucket"],
            ["amount:sum"],
        )
        # The customers' names read together (each group's record alone
        # would read its own).
        partners = self.env["res.partner"].browse({group[0].id for group in groups})
        partners.fetch(["complete_name"])
        for partner, company, bucket, amount in groups:
            row = rows.setdefault((partners.browse(partner.id), company), {})
            row[bucket] = amount
            totals[bucket] = totals.get(bucket, 0.0) + amount
        lines = sorted(
            (
                (partner, company, buckets, sum(buckets.values()))
                for (partner, company), buckets in rows.items()
            ),
            key=lambda row: ((row[0].complete_name or "").lower(), row[0].id, row[1].id),
        )
        currencies = Item._read_group(
            [("report_id", "=", self.id)],
            ["currency_id"],
            ["amount_currency:sum", "amount:sum"],
        )
        return {
            "buckets": bucket_labels(self._periods(), self.env),
            "lines": lines,
            "totals": totals,
            "total": sum(totals.values()),
            "currencies": currencies,
        }

    def _xlsx(self):
        summary = self._summary()
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(self.env._("Aged Receivable"))
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True})
        sheet.write(
            0,
            0,
            self.env._(
                "Aged Receivable at %(date)s (%(currency)s)",
                date=fields.Date.to_string(self.date_at),
                currency=self.currency_id.name,
            ),
            bold,
        )
        header = [self.env._("Customer"), self.env._("Company")]
        header += [label for _key, label in summary["buckets"]]
        header.append(self.env._("Total"))
        for col, title in enumerate(header):
            sheet.write(2, col, title, bold)
        row = 3
        for partner, company, buckets, total in summary["lines"]:
            sheet.write(row, 0, partner.complete_name)
            sheet.write(row, 1, company.name)
            for col, (key, _label) in enumerate(summary["buckets"], start=2):
                sheet.write_number(row, col, buckets.get(key, 0.0), money)
            sheet.write_number(row, len(header) - 1, total, money)
            row += 1
        sheet.write(row, 0, self.env._("Total"), bold)
        for col, (key, _label) in enumerate(summary["buckets"], start=2):
            sheet.write_number(row, col, summary["totals"].get(key, 0.0), money_bold)
        sheet.write_number(row, len(header) - 1, summary["total"], money_bold)
        row += 2
        sheet.write(row, 0, self.env._("Per currency"), bold)
        for currency, amount_currency, amount in summary["currencies"]:
            row += 1
            sheet.write(row, 0, currency.name)
            sheet.write_number(row, 1, amount_currency, money)
            sheet.write_number(row, 2, amount, money)
        sheet.set_column(0, 0, 36)
        sheet.set_column(1, len(header), 14)
        workbook.close()
        return output.getvalue()
