from datetime import timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestPaymentPlan(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.Plan = cls.env["debt.recovery.plan"]
        cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)
        cls.customer.email = "ap@late-payer.example.com"
        cls.stage_plan = cls.env.ref("debt_recovery.stage_payment_plan")

    def _wizard(self, partner=None, **vals):
        case_action = (
            (partner or self.customer).with_user(self.user_collector).action_debt_open_plan_wizard()
        )
        form = Form(
            self.env["debt.recovery.plan.wizard"]
            .with_user(self.user_collector)
            .with_context(**case_action["context"])
        )
        for name, value in vals.items():
            setattr(form, name, value)
        return form.save()

    def _plan(self, **vals):
        wizard = self._wizard(**vals)
        return self.Plan.browse(wizard.action_create_plan()["res_id"])

    def _receivable(self, invoices):
        return invoices.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def test_schedule_rounds_to_the_exact_total(self):
        self._invoice(self.customer, 1000.0, days_late=10)
        wizard = self._wizard(instalment_count=3, frequency="monthly")
        amounts = wizard.schedule_ids.sorted("date_due").mapped("amount")
        self.assertEqual(amounts, [333.33, 333.33, 333.34])
        self.assertEqual(sum(amounts), 1000.0)
        first = wizard.first_date
        self.assertEqual(
            wizard.schedule_ids.sorted("date_due").mapped("date_due"),
            [first, first + relativedelta(months=1), first + relativedelta(months=2)],
        )
        wizard = self._wizard(
            instalment_count=2, frequency="weekly", down_payment=100.0, fee_amount=10.0
        )
        self.assertEqual(
            wizard.schedule_ids.sorted("date_due").mapped("amount"), [100.0, 455.0, 455.0]
        )

    def test_plan_pauses_escalation_and_payments_settle_instalments(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        case = self._case_of(self.customer)
        plan = self._plan(instalment_count=3)
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.date_acknowledgement, self.today)
        self.assertEqual(case.stage_id, self.stage_plan)
        self.assertEqual(plan.case_id, case)
        self.assertTrue(
            self._receivable(invoice).debt_exclusion_reason.startswith("In payment plan")
        )
        self.Communication._run_escalation(self.company)
        self.assertFalse(self.Communication.search([("partner_id", "=", self.customer.id)]))

        first, second, third = plan.instalment_ids.sorted("date_due")
        payment = self._pay(invoice, amount=400.0)
        self.assertEqual((first.amount_paid, first.state), (333.33, "paid"))
        self.assertEqual((second.amount_paid, second.state), (66.67, "partial"))
        self.assertEqual(plan.amount_remaining, 600.0)
        # The payment is unreconciled (bounced): the allocation goes back.
        payment.move_id.line_ids.remove_move_reconcile()
        plan.invalidate_recordset()
        plan.instalment_ids.invalidate_recordset()
        self.assertEqual((first.amount_paid, first.state), (0.0, "open"))
        # Overpayment rolls forward.
        self._pay(invoice, amount=700.0)
        plan.instalment_ids.invalidate_recordset()
        self.assertEqual([i.state for i in (first, second, third)], ["paid", "paid", "partial"])
        self.assertAlmostEqual(third.amount_paid, 33.34)

    def test_breach_after_grace_resumes_escalation(self):
        invoice = self._invoice(self.customer, 900.0, days_late=10)
        self.Communication._run_escalation(self.company)
        case = self._case_of(self.customer)
        stage_before = case.stage_id
        plan = self._plan(instalment_count=3)
        first = plan.instalment_ids.sorted("date_due")[0]
        with freeze_time(first.date_due + timedelta(days=plan.grace_days)):
            self.Plan._cron_check_plans()
            self.assertEqual(plan.state, "active", "Still within the grace period.")
        with freeze_time(first.date_due + timedelta(days=plan.grace_days + 1)):
            self.env.ref("debt_recovery.ir_cron_debt_recovery_check_plans").method_direct_trigger()
            self.assertEqual(plan.state, "breached")
            self.assertFalse(self._receivable(invoice).debt_plan_id)
            self.assertEqual(case.stage_id, stage_before, "Back at the level it had reached.")
            self.assertTrue(
                case.activity_ids.user_id.has_group("debt_recovery.group_debt_recovery_manager"),
                "A recovery manager is told.",
            )
            self.assertTrue(any("breached" in body for body in case.message_ids.mapped("body")))

    def test_completed_plan_closes_the_case(self):
        invoice = self._invoice(self.customer, 600.0, days_late=10)
        case = self._case_of(self.customer)
        plan = self._plan(instalment_count=2)
        self._pay(invoice)
        self.Plan._cron_check_plans()
        self.assertEqual(plan.state, "completed")
        self.assertTrue(case.is_closed)

    def test_instalment_reminder_before_due_date(self):
        self._invoice(self.customer, 600.0, days_late=10)
        plan = self._plan(instalment_count=2)
        first = plan.instalment_ids.sorted("date_due")[0]
        with freeze_time(first.date_due - timedelta(days=2)):
            self.Plan._cron_check_plans()
            self.Plan._cron_check_plans()
        self.assertTrue(first.reminder_sent)
        reminders = plan.message_ids.filtered(lambda m: "next instalment" in (m.body or ""))
        self.assertEqual(len(reminders), 1, "Reminded once.")
        self.assertIn("300.00", reminders.body)
        self.assertEqual(reminders.partner_ids, self.customer)

    def test_multi_currency_plan(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        invoice = self._invoice(self.customer, 500.0, days_late=10, currency=eur)
        plan = self._plan(instalment_count=2)
        self.assertEqual(plan.currency_id, eur)
        self.assertEqual(plan.amount_total, 500.0)
        self._pay(invoice, amount=250.0)
        self.assertEqual(plan.instalment_ids.sorted("date_due")[0].state, "paid")

    def test_reschedule_keeps_history(self):
        self._invoice(self.customer, 600.0, days_late=10)
        plan = self._plan(instalment_count=2)
        plan._reschedule(
            [
                {"date_due": self.today + timedelta(days=30), "amount": 200.0},
                {"date_due": self.today + timedelta(days=60), "amount": 400.0},
            ]
        )
        self.assertEqual(plan.instalment_ids.mapped("amount"), [200.0, 400.0])
        self.assertTrue(any("Previous schedule" in b for b in plan.message_ids.mapped("body")))
        with self.assertRaises(ValidationError), self.cr.savepoint():
            plan._reschedule([{"date_due": self.today + timedelta(days=30), "amount": 100.0}])

    def test_bad_plans_are_refused(self):
        invoice = self._invoice(self.customer, 600.0, days_late=10)
        for vals in (
            {"instalment_count": 0},
            {"down_payment": -10.0},
            {"down_payment": 600.0},
            {"first_date": self.today - timedelta(days=1)},
        ):
            wizard = self._wizard(**vals)
            with self.assertRaises(UserError):
                wizard.action_create_plan()
        wizard = self._wizard(frequency="custom")
        wizard.schedule_ids[0].amount += 1.0
        with self.assertRaises(UserError):
            wizard.action_create_plan()
        self.assertFalse(self.Plan.search([("partner_id", "=", self.customer.id)]))
        other = self._invoice(self.partner_a, 70.0, days_late=3)
        wizard = self._wizard()
        wizard.move_line_ids |= self._receivable(other)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            wizard.action_create_plan()
        self._plan()
        wizard = self._wizard()
        wizard.move_line_ids = self._receivable(invoice)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            wizard.action_create_plan()
        self.assertEqual(len(self.Plan.search([("partner_id", "=", self.customer.id)])), 1)
