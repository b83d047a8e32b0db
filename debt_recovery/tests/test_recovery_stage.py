from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestRecoveryStage(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)
        cls.customer.email = "ap@late-payer.example.com"
        cls.stage_legal = cls.env.ref("debt_recovery.stage_legal")
        cls.stage_agency = cls.env.ref("debt_recovery.stage_agency")
        cls.stage_plan = cls.env.ref("debt_recovery.stage_payment_plan")
        cls.stage_disputed = cls.env.ref("debt_recovery.stage_disputed")

    def _communications(self):
        return self.Communication.search([("partner_id", "=", self.customer.id)])

    def _change_stage(self, cases, stage, reason="Customer asked for time", user=None):
        wizard = Form(
            self.env["debt.recovery.stage.change"]
            .with_user(user or self.user_collector)
            .with_context(default_case_ids=cases.ids)
        )
        wizard.stage_id = stage
        wizard.reason = reason
        return wizard.save().action_apply()

    def test_default_ladder(self):
        kinds = self.Stage.search([]).mapped("kind")
        for kind in (
            "current",
            "reminder",
            "formal_notice",
            "demand_letter",
            "payment_plan",
            "disputed",
            "agency",
            "legal",
            "written_off",
            "closed",
        ):
            self.assertIn(kind, kinds)
        self.assertEqual(kinds[0], "current", "The ladder starts with current debt.")
        self.assertTrue(self.stage_closed.fold)
        self.assertTrue(self.stage_closed.is_closing)

    def test_delete_stage_in_use_is_refused(self):
        stage = self.Stage.create({"name": "Special handling", "kind": "reminder", "sequence": 15})
        case = self.Case.create({"partner_id": self.customer.id, "stage_id": stage.id})
        case.action_archive()
        with self.assertRaises(UserError) as error:
            stage.unlink()
        self.assertIn("Special handling", str(error.exception))
        self.assertTrue(stage.exists())
        case.stage_id = self.stage_current
        stage.unlink()
        self.assertFalse(stage.exists())

    def test_hold_stage_holds_escalation_until_back_on_the_ladder(self):
        self._invoice(self.customer, 300.0, days_late=10)
        case = self._case_of(self.customer).with_user(self.user_collector)
        self.assertTrue(self.stage_legal.holds_escalation)
        self.assertFalse(self.stage_reminder.holds_escalation)
        # Legal Action is made by its record: dragged there on the board (a
        # plain write of the stage), the move asks for the legal action.
        with self.assertRaises(UserError) as error:
            case.write({"stage_id": self.stage_legal.id})
        self.assertIn("open the legal action", str(error.exception))
        self.assertEqual(case.stage_id, self.stage_current)
        # A recovery manager is taken to open it from the stage change wizard.
        action = self._change_stage(case, self.stage_legal, user=self.user_manager)
        self.assertEqual(action["res_model"], "debt.recovery.legal.action")
        legal = (
            self.env["debt.recovery.legal.action"]
            .with_user(self.user_manager)
            .with_context(**action["context"])
            .create({})
        )
        self.assertEqual(case.stage_id, self.stage_legal)
        self.assertEqual(case.stage_before_pause_id, self.stage_current)
        self.Communication._run_escalation(self.company)
        self.assertFalse(self._communications(), "No final demand while in Legal Action.")
        # Back onto the ladder once it is closed: resumes.
        with self.assertRaises(UserError):
            self._change_stage(case, self.stage_reminder, reason="Lawyer advises one more letter")
        legal.with_user(self.user_manager).action_close("withdrawn")
        self.assertEqual(case.stage_id, self.stage_current)
        self.assertFalse(case.stage_before_pause_id)
        self.Communication._run_escalation(self.company)
        self.assertEqual(len(self._communications()), 1, "Reminders go out again.")

    def test_hand_move_to_a_record_stage_asks_for_the_record(self):
        invoice = self._invoice(self.customer, 300.0, days_late=10)
        case = self._case_of(self.customer).with_user(self.user_collector)
        for stage in (self.stage_plan, self.stage_disputed):
            with self.assertRaises(UserError) as error:
                case.write({"stage_id": stage.id})
            self.assertIn(stage.name, str(error.exception))
        self.assertEqual(case.stage_id, self.stage_current, "Refused: nothing changed.")
        # From the stage change wizard, one case is taken to record it.
        action = self._change_stage(case, self.stage_plan)
        self.assertEqual(action["res_model"], "debt.recovery.plan.wizard")
        action = self._change_stage(case, self.stage_disputed, reason="Goods damaged")
        self.assertEqual(action["res_model"], "debt.recovery.dispute")
        self.assertEqual(action["context"]["default_move_id"], invoice.id)
        self.assertEqual(case.stage_id, self.stage_current)
        # With the record, the case is there by itself; it cannot be moved back
        # onto the ladder while the dispute holds all its overdue debt.
        dispute = (
            self.env["debt.recovery.dispute"]
            .with_user(self.user_collector)
            .create(
                {
                    "move_id": invoice.id,
                    "reason_id": self.env.ref("debt_recovery.dispute_reason_quality").id,
                }
            )
        )
        self.assertEqual(case.stage_id, self.stage_disputed)
        with self.assertRaises(UserError):
            case.write({"stage_id": self.stage_reminder.id})
        # Rejected: the case is back where it was.
        dispute.action_reject()
        self.assertEqual(case.stage_id, self.stage_current)
        case.write({"stage_id": self.stage_reminder.id})
        self.assertEqual(case.stage_id, self.stage_reminder)

    def test_record_stage_follows_new_overdue_debt(self):
        disputed = self._invoice(self.customer, 300.0, days_late=10)
        case = self._case_of(self.customer)
        self.env["debt.recovery.dispute"].create(
            {
                "move_id": disputed.id,
                "reason_id": self.env.ref("debt_recovery.dispute_reason_quality").id,
            }
        )
        self.assertEqual(case.stage_id, self.stage_disputed)
        self.Communication._run_escalation(self.company)
        self.assertFalse(self._communications())
        with freeze_time(self.today + timedelta(days=1)):
            # An invoice that nothing holds falls due: the case sync takes the
            # case back onto the ladder, and that invoice gets its reminder.
            later = self._invoice(self.customer, 80.0, days_late=8)
            self.Case._cron_sync_cases()
            self.assertEqual(case.stage_id, self.stage_current)
            self.assertTrue(
                any("Escalation resumes" in body for body in case.message_ids.mapped("body"))
            )
            self.Communication._run_escalation(self.company)
            self.assertEqual(self._communications().line_ids.move_id, later)
