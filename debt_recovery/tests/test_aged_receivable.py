import io
import random
from datetime import timedelta

import openpyxl

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestAgedReceivable(DebtRecoveryCommon):
    """The aged receivable against figures counted by hand, and against the
    general ledger's receivable balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR")  # 2 EUR a USD
        cls.other = cls.env["res.partner"].create({"name": "Other Customer", "is_company": True})

    def _report(self, **vals):
        return self.env["debt.recovery.aged.receivable"].create(vals)

    def _buckets(self, report, partner=None):
        """{bucket: amount} of the report's items (of ``partner``)."""
        result = {}
        for item in report.item_ids:
            if partner and item.partner_id != partner:
                continue
            result[item.bucket] = round(result.get(item.bucket, 0.0) + item.amount, 2)
        return result

    def _ledger_balance(self, day, company=None):
        """The receivable balance of the general ledger at the end of ``day``."""
        [[balance]] = self.env["account.move.line"]._read_group(
            [
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("date", "<=", day),
                ("company_id", "=", (company or self.company).id),
            ],
            [],
            ["balance:sum"],
        )
        return round(balance, 2)

    def test_buckets_counted_by_hand(self):
        self._invoice(self.customer, 1000.0, days_late=10)  # 1-30
        part_paid = self._invoice(self.customer, 500.0, days_late=45)  # 31-60
        self._pay(part_paid, amount=200.0)
        self._invoice(self.customer, 200.0, days_late=-5)  # not yet due
        self._credit_note(self.customer, 100.0)  # netted
        self._invoice(self.other, 1000.0, days_late=100, currency=self.eur)  # 91-120
        self._invoice(self.other, 70.0, days_late=400)  # older
        report = self._report()
        report._compute_items()
        self.assertEqual(
            self._buckets(report, self.customer),
            {"b1": 1000.0, "b2": 300.0, "b0_not_due": 200.0, "b6_credit": -100.0},
        )
        self.assertEqual(self._buckets(report, self.other), {"b4": 500.0, "b5_older": 70.0})
        euro = report.item_ids.filtered(lambda item: item.currency_id == self.eur)
        self.assertEqual(euro.amount_currency, 1000.0)
        self.assertEqual(euro.days_overdue, 100)
        self.assertEqual(round(report.amount_total, 2), 1970.0)
        self.assertEqual(report.amount_total, self._ledger_balance(self.today))
        summary = report._summary()
        self.assertEqual(summary["total"], 1970.0)
        self.assertEqual(
            {currency.name: round(amount, 2) for currency, _c, amount in summary["currencies"]},
            {"USD": 1470.0, "EUR": 500.0},
        )

    def test_past_date_as_it_was(self):
        """At a past date: an invoice paid since is still open, an invoice
        issued since is not there yet, and its buckets count from that day."""
        past = self.today - timedelta(days=20)
        paid_since = self._invoice(self.customer, 400.0, days_late=30)
        self._pay(paid_since, date=self.today)
        issued_since = self._invoice(self.customer, 250.0, days_late=-40, post=False)
        issued_since.invoice_date = self.today - timedelta(days=5)  # after the past day
        issued_since.action_post()
        half = self._invoice(self.other, 600.0, days_late=50)
        self._pay(half, amount=300.0, date=past - timedelta(days=5))
        report = self._report(date_at=past)
        report._compute_items()
        # 30 days late today = 10 days late at the past date.
        self.assertEqual(self._buckets(report, self.customer), {"b1": 400.0})
        self.assertEqual(self._buckets(report, self.other), {"b1": 300.0})
        self.assertEqual(report.amount_total, self._ledger_balance(past))
        today = self._report()
        today._compute_items()
        self.assertEqual(self._buckets(today, self.customer), {"b0_not_due": 250.0})
        self.assertEqual(today.amount_total, self._ledger_balance(self.today))

    def test_totals_equal_the_ledger_on_generated_data(self):
        rng = random.Random(18)
        customers = self.env["res.partner"].create(
            [{"name": f"Generated {n}", "is_company": True} for n in range(6)]
        )
        for _n in range(40):
            customer = rng.choice(customers)
            invoice = self._invoice(
                customer,
                round(rng.uniform(10, 5000), 2),
                days_late=rng.randint(-30, 300),
                currency=rng.choice([self.eur, self.company.currency_id]),
            )
            if rng.random() < 0.5:
                self._pay(
                    invoice,
                    amount=round(invoice.amount_total * rng.choice([0.25, 0.5, 1.0]), 2),
                    date=self.today - timedelta(days=rng.randint(0, 200)),
                )
            if rng.random() < 0.15:
                self._credit_note(customer, round(rng.uniform(5, 300), 2))
        for days_ago in (0, 30, 90, 180):
            day = self.today - timedelta(days=days_ago)
            report = self._report(date_at=day)
            report._compute_items()
            with self.subTest(day=day):
                self.assertAlmostEqual(report.amount_total, self._ledger_balance(day), places=2)

    def test_filters(self):
        tag = self.env["res.partner.category"].create({"name": "Key Account"})
        self.customer.category_id = tag
        self.customer.country_id = self.env.ref("base.fr")
        self._invoice(self.customer, 100.0, days_late=10)
        self._invoice(self.other, 200.0, days_late=10)
        case = self._case_of(self.customer)
        case.user_id = self.user_collector
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        other_policy = policy.copy({"name": "Other terms", "is_default": False})
        both = self.customer | self.other
        for vals, expected in (
            ({"category_ids": tag.ids}, self.customer),
            ({"country_ids": self.env.ref("base.fr").ids}, self.customer),
            ({"user_ids": self.user_collector.ids}, self.customer),
            ({"stage_ids": case.stage_id.ids}, both),
            ({"stage_ids": self.stage_formal_notice.ids}, self.env["res.partner"]),
            ({"policy_ids": policy.ids}, both),
            ({"policy_ids": other_policy.ids}, self.env["res.partner"]),
        ):
            with self.subTest(vals=vals):
                report = self._report(**vals)
                report._compute_items()
                self.assertEqual(report.item_ids.partner_id, expected)
        self.other.with_company(self.company).debt_policy_id = other_policy
        report = self._report(policy_ids=other_policy.ids)
        report._compute_items()
        self.assertEqual(report.item_ids.partner_id, self.other)

    def test_other_company_not_shown(self):
        other_company = self.setup_other_company()["company"]
        self._invoice(self.customer, 100.0, days_late=10)
        self._invoice(self.customer, 900.0, days_late=10, company=other_company)
        report = self._report()
        report._compute_items()
        self.assertEqual(report.amount_total, 100.0)

    def test_periods_configurable_and_checked(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self._invoice(self.customer, 200.0, days_late=20)
        report = self._report(period_1=15, period_2=30, period_3=45, period_4=60)
        report._compute_items()
        self.assertEqual(self._buckets(report), {"b1": 100.0, "b2": 200.0})
        Item = self.env["debt.recovery.aged.receivable.item"]
        labels = dict(Item.with_context(debt_aging_periods=[15, 30, 45, 60])._selection_bucket())
        self.assertEqual(labels["b2"], "16-30 Days")
        self.assertEqual(dict(Item._selection_bucket())["b2"], "31-60 Days")
        for vals in ({"period_1": 0}, {"period_2": 10}, {"period_4": 5000}):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                report.write(vals)

    def test_xlsx_export(self):
        self._invoice(self.customer, 1000.0, days_late=10)
        self._credit_note(self.customer, 100.0)
        report = self._report()
        action = report.action_export_xlsx()
        self.assertEqual(action["tag"], "debt_recovery_download")
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", report._name), ("res_id", "=", report.id)]
        )
        sheet = openpyxl.load_workbook(io.BytesIO(attachment.raw)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        header = rows[2]
        self.assertEqual(header[0], "Customer")
        self.assertEqual(header[-1], "Total")
        customer_row = next(row for row in rows if row[0] == self.customer.complete_name)
        self.assertEqual(customer_row[header.index("1-30 Days")], 1000.0)
        self.assertEqual(customer_row[header.index("Credits")], -100.0)
        self.assertEqual(customer_row[-1], 900.0)

    def test_pdf_html(self):
        self._invoice(self.customer, 1000.0, days_late=10)
        report = self._report()
        report._compute_items()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("debt_recovery.action_report_aged_receivable", report.ids)[0]
            .decode()
        )
        self.assertIn("Aged Receivable at", html)
        self.assertIn(self.customer.name, html)
        self.assertIn("1,000.00", html)

    def test_drill_down_opens_the_items_of_a_bucket(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        self._invoice(self.customer, 50.0, days_late=70)
        report = self._report()
        action = report.action_view()
        self.assertEqual(action["res_model"], "debt.recovery.aged.receivable.item")
        Item = self.env[action["res_model"]].with_context(**action["context"])
        cell = Item.search(
            [*action["domain"], ("partner_id", "=", self.customer.id), ("bucket", "=", "b1")]
        )
        self.assertEqual(cell.move_id, invoice)
        self.assertEqual(cell.action_open_item()["res_id"], invoice.id)

    def test_queries_bounded(self):
        """The report of many customers costs the queries of one."""

        def queries(count):
            customers = self.env["res.partner"].create(
                [{"name": f"Q{count}-{n}", "is_company": True} for n in range(count)]
            )
            for customer in customers:
                self._invoice(customer, 100.0, days_late=15)
            report = self._report()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            report._compute_items()
            report._summary()
            return self.env.cr.sql_log_count - start

        queries(1)  # the access rules read once
        single = queries(1)
        self.assertLessEqual(queries(12), single)
