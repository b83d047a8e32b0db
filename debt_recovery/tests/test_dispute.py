from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestDispute(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.Dispute = cls.env["debt.recovery.dispute"]
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        cls.friendly = cls.policy.level_ids.filtered(lambda lv: lv.days == 7)
        cls.firm = cls.policy.level_ids.filtered(lambda lv: lv.days == 21)
        cls.customer.email = "ap@late-payer.example.com"
        cls.quality = cls.env.ref("debt_recovery.dispute_reason_quality")

    def _dispute(self, invoice, **vals):
        return self.Dispute.with_user(self.user_collector).create(
            {"move_id": invoice.id, "reason_id": self.quality.id, **vals}
        )

    def _receivable(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def test_disputed_invoice_is_left_out_and_shown_apart(self):
        disputed = self._invoice(self.customer, 300.0, days_late=10)
        other = self._invoice(self.customer, 100.0, days_late=10)
        dispute = self._dispute(disputed)
        self.assertEqual(dispute.partner_id, self.customer)
        self.assertEqual(dispute.amount_disputed, 300.0)
        self.assertEqual(self._receivable(disputed).debt_exclusion_reason, "Disputed: Quality")
        self.Communication._run_escalation(self.company)
        comm = self.Communication.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(comm.line_ids.move_id, other, "The disputed invoice is not reminded.")
        case = self._case_of(self.customer)
        self.assertNotEqual(case.stage_kind, "disputed", "Only part of the debt is disputed.")
        # The case, the board card and the customer's panel show it apart.
        self.assertEqual((case.amount_overdue, case.amount_disputed), (400.0, 300.0))
        self.customer.invalidate_recordset()
        self.assertEqual(
            (self.customer.debt_amount_overdue, self.customer.debt_amount_disputed), (400.0, 300.0)
        )
        Statement = self.env["report.debt_recovery.report_statement_of_account"]
        statement = Statement._get_statement_data(self.customer)["currencies"][0]
        self.assertEqual(statement["disputed"], 300.0)
        self.assertEqual([item["disputed"] for item in statement["items"]].count(True), 1)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "debt_recovery.action_report_statement_of_account", self.customer.ids
            )[0]
            .decode()
        )
        self.assertIn("(disputed)", html)
        self.assertIn("Of which disputed", html)

    def test_rejected_dispute_resumes_without_counting_the_pause(self):
        invoice = self._invoice(self.customer, 300.0, days_late=10)
        self.Communication._run_escalation(self.company)
        line = self._receivable(invoice)
        self.assertEqual(line.debt_level_id, self.friendly)
        case = self._case_of(self.customer)
        dispute = self._dispute(invoice)
        self.assertEqual(case.stage_kind, "disputed", "All the overdue debt is disputed.")
        with freeze_time(self.today + timedelta(days=20)):
            self.Communication._run_escalation(self.company)
            self.assertEqual(line.debt_level_id, self.friendly, "Paused while disputed.")
            dispute.with_user(self.user_collector).action_reject()
            self.assertEqual(dispute.state, "rejected")
            self.assertEqual(dispute.age_days, 20)
            self.assertFalse(line.debt_dispute_id)
            self.assertEqual(case.stage_id, self.stage_reminder, "Back where it stopped.")
            self.assertEqual(line.debt_level_date, self.today + timedelta(days=20))
            self.Communication._run_escalation(self.company)
            self.assertEqual(
                line.debt_level_id, self.friendly, "The pause does not count as waiting."
            )
        with freeze_time(self.today + timedelta(days=26)):
            self.Communication._run_escalation(self.company)
            self.assertEqual(line.debt_level_id, self.friendly, "Six days since the pause ended.")
        with freeze_time(self.today + timedelta(days=27)):
            self.Communication._run_escalation(self.company)
            self.assertEqual(
                line.debt_level_id, self.firm, "37 days late: one level up (paced policy)."
            )

    def test_resolved_for_the_customer_needs_the_credit_note(self):
        invoice = self._invoice(self.customer, 300.0, days_late=10)
        dispute = self._dispute(invoice)
        with self.assertRaises(UserError):
            dispute.action_resolve()
        self.assertEqual(dispute.state, "open")
        refund = invoice._reverse_moves()
        refund.action_post()
        dispute.credit_note_id = refund
        dispute.action_resolve()
        self.assertEqual(dispute.state, "resolved")
        self.assertFalse(self._receivable(invoice).debt_dispute_id)
        with self.assertRaises(UserError):
            dispute.action_reject()

    def test_bad_disputes_are_refused(self):
        invoice = self._invoice(self.customer, 300.0, days_late=10)
        self._dispute(invoice)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._dispute(invoice)
        paid = self._invoice(self.customer, 50.0, days_late=3)
        self._pay(paid)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._dispute(paid)
        other = self._invoice(self.partner_a, 70.0, days_late=3)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._dispute(invoice, move_line_ids=self._receivable(other).ids)
        with self.assertRaises(UserError):
            self.Dispute.search([("move_id", "=", invoice.id)]).unlink()

    def test_dispute_and_promise_share_one_pause(self):
        """A dispute and a promise hold the same case through one mechanism: the
        case pauses once all its overdue debt is held, and resumes as soon as
        some of it is held by nothing, whichever record ends."""
        disputed = self._invoice(self.customer, 300.0, days_late=10)
        promised = self._invoice(self.customer, 200.0, days_late=10)
        case = self._case_of(self.customer)
        dispute = self._dispute(disputed)
        self.assertEqual(case.stage_id, self.stage_current, "The promised invoice is still due.")
        promise = (
            self.env["debt.recovery.promise"]
            .with_user(self.user_collector)
            .create(
                {
                    "partner_id": self.customer.id,
                    "move_line_ids": self._receivable(promised).ids,
                    "amount": 200.0,
                    "date_promised": self.today + timedelta(days=5),
                }
            )
        )
        self.assertEqual(case.stage_kind, "promise")
        self.assertEqual(case.stage_before_pause_id, self.stage_current)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._dispute(disputed)
        self.Communication._run_escalation(self.company)
        self.assertFalse(self.Communication.search([("partner_id", "=", self.customer.id)]))
        with freeze_time(self.today + timedelta(days=3)):
            dispute.action_reject()
            self.assertEqual(case.stage_id, self.stage_current, "The rejected invoice is due.")
            self.assertEqual(self._receivable(promised).debt_promise_id, promise)
            self.Communication._run_escalation(self.company)
            comm = self.Communication.search([("partner_id", "=", self.customer.id)])
            self.assertEqual(comm.line_ids.move_id, disputed, "Only the unheld invoice.")
        bodies = case.message_ids.mapped("body")
        self.assertTrue(any("disputed (Quality)" in body for body in bodies))
        self.assertTrue(any("Promise to pay" in body for body in bodies))
        self.assertTrue(any("rejected" in body for body in bodies))
