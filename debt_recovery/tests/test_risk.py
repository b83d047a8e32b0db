from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestRisk(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Risk = cls.env["debt.recovery.risk"]
        Partner = cls.env["res.partner"]
        cls.prompt = Partner.create({"name": "Always Prompt", "is_company": True})
        cls.late = Partner.create({"name": "Always Late", "is_company": True})
        cls.slipping = Partner.create({"name": "Recently Slipping", "is_company": True})
        # Twelve monthly invoices over the last year, each paid N days after its due date.
        for month in range(12):
            days_ago = 420 - month * 30  # due 420 to 90 days ago: all settled by now
            recent = days_ago <= 180
            for partner, delay in (
                (cls.prompt, 0),
                (cls.late, 45),
                (cls.slipping, 40 if recent else 0),
            ):
                invoice = cls._invoice(partner, 1000.0, days_late=days_ago)
                cls._pay(invoice, date=cls.today - timedelta(days=max(days_ago - delay, 0)))

    def _risk(self, partner):
        return self.Risk.search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company.id)]
        )

    def test_scores_order_and_bands(self):
        self.Risk._compute_all(self.company)
        prompt, late, slipping = (
            self._risk(self.prompt),
            self._risk(self.late),
            self._risk(self.slipping),
        )
        self.assertLess(prompt.score, slipping.score)
        self.assertLess(slipping.score, late.score)
        self.assertEqual(prompt.band, "low")
        self.assertEqual(slipping.band, "medium")
        self.assertEqual(late.band, "high")
        self.assertAlmostEqual(late.avg_days_late, 45.0)
        self.assertIn("paying later than usual", slipping.reasons)
        self.assertIn("days late on average", late.reasons)
        self.assertEqual(self.late.debt_risk_band, "high")
        self.assertGreater(prompt.suggested_credit_limit, late.suggested_credit_limit)

    def test_early_warning_once(self):
        case = self.env["debt.recovery.case"].create({"partner_id": self.slipping.id})
        self.Risk._compute_all(self.company)
        warnings = case.message_ids.filtered(lambda m: "Early warning" in (m.body or ""))
        self.assertEqual(len(warnings), 1)
        self.assertEqual(len(case.activity_ids), 1)
        with freeze_time(self.today + timedelta(days=1)):
            self.env.ref("debt_recovery.ir_cron_debt_recovery_risk").method_direct_trigger()
        warnings = case.message_ids.filtered(lambda m: "Early warning" in (m.body or ""))
        self.assertEqual(len(warnings), 1, "Not every day.")
        prompt_messages = self.prompt.message_ids.filtered(
            lambda m: "Early warning" in (m.body or "")
        )
        self.assertFalse(prompt_messages, "A prompt payer raises no warning.")

    def test_manager_applies_suggested_limit(self):
        self.Risk._compute_all(self.company)
        risk = self._risk(self.prompt)
        self.prompt.with_user(self.user_manager).action_debt_apply_suggested_limit()
        self.assertEqual(self.prompt.credit_limit, risk.suggested_credit_limit)
        self.assertTrue(any("suggested" in b for b in self.prompt.message_ids.mapped("body")))

    def test_overdue_ratio_is_net_of_open_credits(self):
        partner = self.env["res.partner"].create({"name": "Credited Co", "is_company": True})
        self._invoice(partner, 1000.0, days_late=20)
        self._invoice(partner, 1000.0, days_late=-10)
        self.Risk._compute_all(self.company, partners=partner)
        self.assertAlmostEqual(self._risk(partner).overdue_ratio, 50.0)
        self._credit_note(partner, 500.0)
        self.Risk._compute_all(self.company, partners=partner)
        # 500 net overdue of 1,500 net open.
        self.assertAlmostEqual(self._risk(partner).overdue_ratio, 100.0 / 3)
        self._unapplied_payment(partner, 500.0)
        self.Risk._compute_all(self.company, partners=partner)
        self.assertAlmostEqual(self._risk(partner).overdue_ratio, 0.0)
        self.assertNotIn("overdue", self._risk(partner).reasons)

    def test_queries_do_not_grow_with_customers(self):
        def count(partners):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.Risk._collect(self.company, self.today, partners)
            return self.env.cr.sql_log_count - before

        count(self.late)
        self.assertEqual(count(self.prompt), count(self.prompt | self.late | self.slipping))
