from datetime import timedelta

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestPerformance(DebtRecoveryCommon):
    """Amounts of many cases are computed in a fixed number of queries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partners = cls.env["res.partner"].create(
            [{"name": f"Bulk Customer {i:03d}", "is_company": True} for i in range(200)]
        )
        journal = cls.company_data["default_journal_sale"]
        vals = []
        for index, partner in enumerate(partners):
            for n in range(10):
                days_late = (index + n * 7) % 90 - 20
                vals.append(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "journal_id": journal.id,
                        "invoice_date": cls._days_ago(120),
                        "invoice_date_due": cls._days_ago(days_late),
                        "invoice_payment_term_id": False,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Item",
                                    "quantity": 1,
                                    "price_unit": 100.0 + n,
                                    "tax_ids": [],
                                }
                            )
                        ],
                    }
                )
        moves = cls.env["account.move"].create(vals)
        # Fresh planner statistics: without them Odoo's own payment-state query
        # picks a nested-loop plan that takes minutes on 2,000 new moves.
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL("ANALYZE account_move, account_move_line, account_partial_reconcile")
        )
        moves.action_post()
        cls.partners = partners
        cls.cases = cls.env["debt.recovery.case"].search([("partner_id", "in", partners.ids)])

    @classmethod
    def _days_ago(cls, days):
        return cls.today - timedelta(days=days)

    def _count_queries(self, records, fnames):
        self.env.invalidate_all()
        # A fresh recordset, so that prefetching covers exactly these records.
        records = records.browse(records.ids)
        before = self.env.cr.sql_log_count
        for fname in fnames:
            records.mapped(fname)
        return self.env.cr.sql_log_count - before

    def test_case_amounts_query_count_is_constant(self):
        self.assertEqual(len(self.cases), 200, "Every bulk customer has something overdue.")
        fnames = [
            "amount_due",
            "amount_overdue",
            "oldest_overdue_days",
            "overdue_invoice_count",
            "currency_summary",
            "stage_id",
        ]
        self._count_queries(self.cases[10:20], fnames)  # warm the registry caches
        few = self._count_queries(self.cases[:10], fnames)
        many = self._count_queries(self.cases, fnames)
        self.assertEqual(many, few, "The number of queries must not grow with the cases.")
        self.assertLessEqual(many, 12)
        # And the result is right for one of them.
        case = self.cases[0]
        lines = case.move_line_ids.filtered(
            lambda line: not line.reconciled and line.date_maturity < self.today
        )
        self.assertAlmostEqual(case.amount_overdue, sum(lines.mapped("amount_residual")))

    def test_partner_amounts_query_count_is_constant(self):
        fnames = [
            "debt_amount_overdue",
            "debt_amount_due",
            "debt_stage_id",
            "debt_case_count",
            "debt_risk_score",
            "debt_oldest_overdue_days",
        ]
        self._count_queries(self.partners[10:20], fnames)  # warm the registry caches
        few = self._count_queries(self.partners[:10], fnames)
        many = self._count_queries(self.partners, fnames)
        self.assertEqual(many, few)

    def test_partner_panel_reads_open_items_once(self):
        """The customer form's recovery panel: receivable, overdue, oldest
        overdue, overdue invoices, exposure and credit hold come from one read
        of the open items, whatever the number of customers and invoices."""
        fnames = [
            "debt_amount_due",
            "debt_amount_overdue",
            "debt_oldest_overdue_days",
            "debt_overdue_invoice_ids",
            "debt_exposure",
            "debt_credit_available",
            "debt_hold_reason",
        ]
        self.company.debt_hold_overdue_days = 30
        self._count_queries(self.partners[10:20], fnames)  # warm the registry caches
        few = self._count_queries(self.partners[:1], fnames)
        many = self._count_queries(self.partners, fnames)
        self.assertEqual(many, few)
        # The customers, their company and currency, the open items once (they
        # were read four times: due, overdue, exposure, hold), draft invoices
        # and the cases at the hold stage once each.
        self.assertLessEqual(many, 9)
        partner = self.partners[3]
        self._set_credit_limit(partner, 500.0)
        lines = self.env["account.move.line"].search(
            [("partner_id", "=", partner.id), ("account_type", "=", "asset_receivable")]
        )
        overdue = lines.filtered(lambda line: line.date_maturity < self.today)
        self.assertTrue(overdue and overdue != lines, "Some items are overdue, some not.")
        self.assertAlmostEqual(partner.debt_amount_due, sum(lines.mapped("amount_residual")))
        self.assertAlmostEqual(partner.debt_amount_overdue, sum(overdue.mapped("amount_residual")))
        self.assertEqual(partner.debt_overdue_invoice_ids, overdue.move_id)
        oldest = (self.today - min(overdue.mapped("date_maturity"))).days
        self.assertEqual(partner.debt_oldest_overdue_days, oldest)
        self.assertAlmostEqual(partner.debt_exposure, partner.debt_amount_due)
        self.assertAlmostEqual(partner.debt_credit_available, 500.0 - partner.debt_amount_due)
        self.assertIn(f"{oldest} days overdue", partner.debt_hold_reason)
