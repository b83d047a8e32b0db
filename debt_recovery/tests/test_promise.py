from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestPromise(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.Promise = cls.env["debt.recovery.promise"]
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        cls.customer.email = "ap@late-payer.example.com"
        cls.stage_promise = cls.env.ref("debt_recovery.stage_promise")

    def _receivable(self, invoices):
        return invoices.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _promise(self, invoices, amount, days_ahead=5, **vals):
        return self.Promise.with_user(self.user_collector).create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": self._receivable(invoices).ids,
                "amount": amount,
                "date_promised": self.today + timedelta(days=days_ahead),
                **vals,
            }
        )

    def test_log_from_case_and_pause(self):
        invoice = self._invoice(self.customer, 400.0, days_late=10)
        case = self._case_of(self.customer)
        action = case.with_user(self.user_collector).action_log_promise()
        form = Form(self.Promise.with_user(self.user_collector).with_context(**action["context"]))
        self.assertEqual(form.amount, 400.0)
        form.date_promised = self.today + timedelta(days=5)
        promise = form.save()
        self.assertEqual(promise.move_line_ids, self._receivable(invoice))
        self.assertEqual(case.stage_id, self.stage_promise)
        self.assertTrue(self._receivable(invoice).debt_exclusion_reason.startswith("Promised for"))
        # Reminders wait until the promised date plus the grace days.
        with freeze_time(self.today + timedelta(days=8)):
            self.Communication._run_escalation(self.company)
            self.assertFalse(self.Communication.search([("partner_id", "=", self.customer.id)]))

    def test_kept_promise(self):
        invoice = self._invoice(self.customer, 400.0, days_late=10)
        promise = self._promise(invoice, 400.0)
        self._pay(invoice, date=self.today + timedelta(days=2))
        self.Promise._cron_check_promises()
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.amount_paid, 400.0)
        self.assertEqual(self.customer.debt_promise_kept_count, 1)
        self.assertEqual(self.customer.debt_promise_broken_count, 0)

    def test_broken_promise_resumes_escalation(self):
        invoice = self._invoice(self.customer, 400.0, days_late=10)
        case = self._case_of(self.customer)
        case.user_id = self.user_collector
        promise = self._promise(invoice, 400.0, days_ahead=5, grace_days=2)
        self._pay(invoice, amount=150.0)
        with freeze_time(self.today + timedelta(days=7)):
            self.env.ref(
                "debt_recovery.ir_cron_debt_recovery_check_promises"
            ).method_direct_trigger()
            self.assertEqual(promise.state, "open", "Still within the grace period.")
        with freeze_time(self.today + timedelta(days=8)):
            self.Promise._cron_check_promises()
            self.assertEqual(promise.state, "broken")
            self.assertEqual(promise.amount_paid, 150.0)
            self.assertFalse(self._receivable(invoice).debt_promise_id)
            self.assertEqual(case.stage_id, self.stage_current, "Back where it stopped.")
            self.assertEqual(case.activity_ids.user_id, self.user_collector)
            self.assertTrue(any("Promise broken" in b for b in case.message_ids.mapped("body")))
            self.assertEqual(self.customer.debt_promise_broken_count, 1)
            self.Communication._run_escalation(self.company)
            comm = self.Communication.search([("partner_id", "=", self.customer.id)])
            self.assertEqual(comm.amount_total, 250.0, "The escalation takes over again.")

    def test_bad_promises_are_refused(self):
        invoice = self._invoice(self.customer, 400.0, days_late=10)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._promise(invoice, 0.0)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._promise(invoice, 100.0, days_ahead=-1)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._promise(invoice, 100.0, grace_days=-1)
        other = self._invoice(self.partner_a, 70.0, days_late=3)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._promise(other, 70.0)
        promise = self._promise(invoice, 100.0)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._promise(invoice, 100.0)
        with self.assertRaises(UserError):
            promise.unlink()
        self.assertEqual(self.Promise.search_count([("partner_id", "=", self.customer.id)]), 1)
