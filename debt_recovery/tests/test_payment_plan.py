from datetime import timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
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

    def _fee_plan(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        plan = self._plan(instalment_count=2, fee_amount=30.0)
        return invoice, plan

    def test_fee_is_invoiced_and_settled_by_on_time_payments(self):
        invoice, plan = self._fee_plan()
        case = self._case_of(self.customer)
        fee = plan.fee_move_id
        self.assertEqual((fee.move_type, fee.state), ("out_invoice", "posted"))
        self.assertEqual(fee.company_id, self.company)
        self.assertEqual(fee.currency_id, plan.currency_id)
        self.assertEqual(fee.commercial_partner_id, self.customer)
        self.assertEqual(fee.amount_total, 30.0)
        line = fee.invoice_line_ids
        self.assertEqual(len(line), 1)
        self.assertFalse(line.product_id)
        self.assertFalse(line.tax_ids)
        self.assertIn("payment plan", line.name)
        self.assertIn(line.account_id.account_type, ("income", "income_other"))
        self.assertEqual(line.account_id.company_ids, self.company)
        first, second = plan.instalment_ids.sorted("date_due")
        self.assertEqual((first.amount, second.amount), (515.0, 515.0))
        fee_item = self._receivable(fee)
        self.assertEqual(fee_item.date_maturity, second.date_due, "Due with the last instalment.")
        self.assertEqual(fee_item.debt_plan_id, plan, "Covered by the plan.")
        self.assertIn(fee_item, plan.move_line_ids)
        self.assertEqual((plan.amount_total, plan.amount_remaining), (1030.0, 1030.0))
        self.assertTrue(any(fee.name in body for body in case.message_ids.mapped("body")))

        with freeze_time(first.date_due):
            self._pay(invoice, amount=515.0, date=first.date_due)
            self.Plan._cron_check_plans()
        self.assertEqual(plan.state, "active")
        with freeze_time(second.date_due):
            self._pay(invoice | fee, date=second.date_due)
        self.assertTrue(fee_item.reconciled, "The customer's payment settles the fee.")
        with freeze_time(second.date_due + timedelta(days=plan.grace_days + 1)):
            self.Plan._cron_check_plans()
        self.assertEqual(plan.state, "completed", "Paid in full: completed, never breached.")
        self.assertEqual(plan.amount_remaining, 0.0)
        self.assertTrue(case.is_closed)
        self.assertFalse(case.activity_ids, "Nobody is told of a breach.")
        self.assertFalse(
            any("breached" in body for body in case.message_ids.mapped("body")),
        )

    def test_breach_of_the_fee_on_a_recovered_case_notifies_nobody(self):
        invoice, plan = self._fee_plan()
        case = self._case_of(self.customer)
        self._pay(invoice)
        self.assertTrue(case.is_closed, "Nothing overdue: recovered.")
        last = plan.instalment_ids.sorted("date_due")[-1]
        with freeze_time(last.date_due + timedelta(days=plan.grace_days + 1)):
            self.Plan._cron_check_plans()
        self.assertEqual(plan.state, "breached", "The fee was not paid.")
        self.assertEqual(case.stage_id, self.stage_closed)
        self.assertFalse(case.activity_ids)
        self.assertFalse(self._receivable(plan.fee_move_id).debt_plan_id)

    def test_plan_with_items_settled_otherwise_is_completed(self):
        """A plan whose items are all settled is completed, not breached, even
        with a fee that was never invoiced (plans from before fees were)."""
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        due = self.today + timedelta(days=10)
        # sudo: a plan as it was agreed before fees were invoiced (a fixture:
        # only the plan's actions set its state).
        plan = self.Plan.sudo().create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": self._receivable(invoice).ids,
                "currency_id": invoice.currency_id.id,
                "amount_covered": 1000.0,
                "fee_amount": 30.0,
                "state": "active",
                "date_agreement": self.today,
                "instalment_ids": [Command.create({"date_due": due, "amount": 1030.0})],
            }
        )
        self._pay(invoice)
        self.assertEqual(plan.amount_remaining, 30.0)
        with freeze_time(due + timedelta(days=plan.grace_days + 1)):
            self.Plan._cron_check_plans()
        self.assertEqual(plan.state, "completed")

    def test_cancelled_plan_reverses_its_unpaid_fee(self):
        _invoice, plan = self._fee_plan()
        fee = plan.fee_move_id
        plan.with_user(self.user_collector).action_cancel()
        self.assertEqual(plan.state, "cancelled")
        self.assertEqual(fee.payment_state, "reversed")
        refund = fee.reversal_move_ids
        self.assertEqual((refund.move_type, refund.state), ("out_refund", "posted"))
        self.assertNotIn(self._receivable(fee), plan.move_line_ids)
        self.assertTrue(any("waived" in body for body in plan.message_ids.mapped("body")))
        self.assertEqual(self._case_of(self.customer).stage_id, self.stage_current)

    def test_actions_refuse_a_plan_in_the_wrong_state(self):
        _invoice, plan = self._fee_plan()
        fee = plan.fee_move_id
        with self.assertRaisesRegex(UserError, "Only a draft plan can be proposed"):
            plan.action_propose()
        self.assertEqual(plan.state, "active")
        plan.action_cancel()
        refund = fee.reversal_move_ids
        self.assertEqual(len(refund), 1)
        messages = len(plan.message_ids)
        with self.assertRaisesRegex(
            UserError, "Only a draft, proposed or active plan can be cancelled"
        ):
            plan.action_cancel()
        with self.assertRaisesRegex(UserError, "Only a draft or proposed plan can be activated"):
            plan.action_activate()
        self.assertEqual(plan.state, "cancelled")
        self.assertEqual(fee.reversal_move_ids, refund, "The fee is not reversed twice.")
        self.assertEqual(len(plan.message_ids), messages)

    def test_cancelled_plan_keeps_a_partly_paid_fee(self):
        _invoice, plan = self._fee_plan()
        fee = plan.fee_move_id
        self._pay(fee, amount=10.0)
        plan.action_cancel()
        self.assertEqual(plan.state, "cancelled")
        self.assertFalse(fee.reversal_move_ids)
        self.assertEqual(fee.amount_residual, 20.0)
        self.assertFalse(self._receivable(fee).debt_plan_id, "Reminders may chase it again.")
        self.assertTrue(any("partly paid" in body for body in plan.message_ids.mapped("body")))

    def test_stage_follows_the_plan(self):
        self._invoice(self.customer, 600.0, days_late=10)
        case = self._case_of(self.customer)
        with self.assertRaises(UserError):
            case.write({"stage_id": self.stage_plan.id})
        plan = self._plan(instalment_count=2)
        self.assertEqual(case.stage_id, self.stage_plan)
        with self.assertRaises(UserError):
            case.write({"stage_id": self.stage_reminder.id})
        plan.action_cancel()
        self.assertEqual(case.stage_id, self.stage_current, "No active plan: back on the ladder.")

    # --- the agreed schedule --- #
    def test_agreed_schedule_changes_only_by_rescheduling(self):
        self._invoice(self.customer, 600.0, days_late=10)
        plan = self._plan(instalment_count=2)
        self.assertEqual(plan.state, "active")
        first = plan.instalment_ids.sorted("date_due")[0]
        later = self.today + timedelta(days=90)
        Instalment = self.env["debt.recovery.plan.instalment"]
        for user in (self.user_manager, self.user_collector):
            as_user = plan.with_user(user)
            instalment = first.with_user(user)
            changes = {
                "amount": lambda i=instalment: i.write({"amount": 100.0}),
                "due date": lambda i=instalment: i.write({"date_due": later}),
                "delete": lambda i=instalment: i.unlink(),
                "add": lambda u=user: Instalment.with_user(u).create(
                    {"plan_id": plan.id, "date_due": later, "amount": 10.0}
                ),
                "edit through the plan": lambda p=as_user, i=instalment: p.write(
                    {"instalment_ids": [Command.update(i.id, {"amount": 50.0})]}
                ),
                "delete through the plan": lambda p=as_user, i=instalment: p.write(
                    {"instalment_ids": [Command.unlink(i.id)]}
                ),
            }
            for change, run in changes.items():
                with (
                    self.subTest(user=user.login, change=change),
                    self.assertRaisesRegex(UserError, "cannot be added, changed or deleted"),
                    self.cr.savepoint(),
                ):
                    run()
        self.assertEqual(plan.instalment_ids.mapped("amount"), [300.0, 300.0])

        # Rescheduling is the way: the new schedule replaces the old, on record.
        for user, amounts in (
            (self.user_collector, [100.0, 500.0]),
            (self.user_manager, [250.0, 350.0]),
        ):
            self._reschedule_as(user, plan, amounts)
            self.assertEqual(plan.instalment_ids.mapped("amount"), amounts)
        self.assertEqual(
            len([b for b in plan.message_ids.mapped("body") if "Previous schedule" in b]), 2
        )

    def _reschedule_as(self, user, plan, amounts):
        """Reschedule ``plan`` as ``user`` from its form (the Reschedule button)."""
        action = plan.with_user(user).action_reschedule()
        form = Form(self.env[action["res_model"]].with_user(user).with_context(**action["context"]))
        self.assertEqual(len(form.line_ids), len(plan.instalment_ids), "The current schedule.")
        for index, amount in enumerate(amounts):
            with form.line_ids.edit(index) as line:
                line.amount = amount
        return form.save().action_reschedule()

    def test_reschedule_needs_an_active_plan_and_the_total(self):
        self._invoice(self.customer, 600.0, days_late=10)
        plan = self._plan(instalment_count=2)
        with self.assertRaisesRegex(UserError, "adds up to"):
            self._reschedule_as(self.user_collector, plan, [100.0, 100.0])
        self.assertEqual(plan.instalment_ids.mapped("amount"), [300.0, 300.0])
        other = self.env["res.partner"].create({"name": "Draft Plan Co", "is_company": True})
        self._invoice(other, 400.0, days_late=10)
        draft = self._wizard(partner=other, instalment_count=2)._create_plan()
        self.assertEqual(draft.state, "draft")
        with self.assertRaisesRegex(UserError, "Only an active plan"):
            draft.with_user(self.user_collector).action_reschedule()

    def test_draft_schedule_can_be_edited(self):
        self._invoice(self.customer, 600.0, days_late=10)
        plan = self._wizard(instalment_count=2)._create_plan().with_user(self.user_collector)
        self.assertEqual(plan.state, "draft")
        first, second = plan.instalment_ids.sorted("date_due")
        first.amount = 200.0
        second.amount = 400.0
        self.assertEqual(plan.instalment_ids.sorted("date_due").mapped("amount"), [200.0, 400.0])
        plan.action_propose()
        with self.assertRaisesRegex(UserError, "Proposed"):
            first.amount = 300.0
