from datetime import timedelta

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import DebtRecoveryCommon

# Refusals: a clear message, or the ORM's access refusal (an AccessError, a
# UserError too) for users without write access at all.
REFUSED = UserError


@tagged("post_install", "-at_install")
class TestModelRules(DebtRecoveryCommon):
    """Rules the models enforce whatever the client: workflow states change
    through their actions only, numbers are bounded, searches on computed
    fields answer every operator of an integer field."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Dispute = cls.env["debt.recovery.dispute"]
        cls.Promise = cls.env["debt.recovery.promise"]
        cls.Plan = cls.env["debt.recovery.plan"]
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        cls.level = cls.policy.level_ids.sorted("days")[-1]
        cls.quality = cls.env.ref("debt_recovery.dispute_reason_quality")
        other = cls.setup_other_company()["company"]
        cls.user_other_company = cls._other_company_manager(other)
        cls.user_portal = cls._portal_user()
        cls.all_users = {
            "public": cls.env.ref("base.public_user"),
            "portal": cls.user_portal,
            "collector": cls.user_collector,
            "manager": cls.user_manager,
            "billing": cls.user_invoicing,
            "other company": cls.user_other_company,
        }

    # === HELPERS === #
    def _receivable(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _dispute(self, amount=300.0):
        invoice = self._invoice(self.customer, amount, days_late=10)
        return self.Dispute.with_user(self.user_collector).create(
            {"move_id": invoice.id, "reason_id": self.quality.id}
        )

    def _promise(self, amount=100.0, invoice_amount=375.42):
        invoice = self._invoice(self.customer, invoice_amount, days_late=10)
        return self.Promise.with_user(self.user_collector).create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": self._receivable(invoice).ids,
                "amount": amount,
                "date_promised": self.today + timedelta(days=5),
            }
        )

    def _plan(self, amount=500.0):
        invoice = self._invoice(self.customer, amount, days_late=10)
        return self.Plan.with_user(self.user_collector).create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": self._receivable(invoice).ids,
                "currency_id": invoice.currency_id.id,
                "amount_covered": amount,
                "instalment_ids": [
                    Command.create({"date_due": self.today + timedelta(days=10), "amount": amount})
                ],
            }
        )

    def _communication(self):
        return self.Communication.create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "currency_id": self.company.currency_id.id,
                "level_id": self.level.id,
                "date": self.today,
            }
        )

    def _assert_write_refused(self, record, vals):
        """``vals`` written directly by each kind of user is refused, and the
        record is unchanged (read again as admin)."""
        fnames = list(vals)
        before = record.read(fnames)[0]
        for label, user in self.all_users.items():
            with self.subTest(user=label, fields=fnames), self.assertRaises(REFUSED):
                record.with_user(user).write(vals)
            record.invalidate_recordset()
            self.assertEqual(record.read(fnames)[0], before, f"{label}: nothing changed")

    # === WORKFLOW STATES === #
    def test_dispute_state_only_through_actions(self):
        dispute = self._dispute()
        items = dispute.move_line_ids
        self.assertEqual(items.debt_dispute_id, dispute)
        for vals in (
            {"state": "rejected"},
            {"state": "resolved"},
            {"date_closed": self.today},
            {"amount_disputed": 1.0},
        ):
            self._assert_write_refused(dispute, vals)
        self.assertEqual(items.debt_dispute_id, dispute, "The items stay held by the open dispute.")
        with self.assertRaisesRegex(UserError, "change only through its actions"):
            self.Dispute.with_user(self.user_collector).create(
                {
                    "move_id": self._invoice(self.customer, 10.0, days_late=5).id,
                    "reason_id": self.quality.id,
                    "state": "rejected",
                }
            )
        with self.assertRaises(REFUSED):
            dispute.with_user(self.user_invoicing).action_reject()
        self.assertEqual(dispute.state, "open")
        # The action itself rejects it, releases its items and stamps the date.
        dispute.with_user(self.user_collector).action_reject()
        self.assertEqual(dispute.state, "rejected")
        self.assertEqual(dispute.date_closed, self.today)
        self.assertFalse(items.debt_dispute_id, "Rejected: its items are released.")
        self.assertEqual(dispute.write_uid, self.user_collector)
        with self.assertRaisesRegex(UserError, "only an open dispute"):
            dispute.with_user(self.user_collector).action_reject()
        with self.assertRaisesRegex(UserError, "only an open dispute"):
            dispute.with_user(self.user_collector).action_resolve()

    def test_dispute_resolve_releases_its_items(self):
        dispute = self._dispute()
        items = dispute.move_line_ids
        with self.assertRaisesRegex(UserError, "credit note"):
            dispute.with_user(self.user_collector).action_resolve()
        refund = self._credit_note(self.customer, 300.0)
        dispute.with_user(self.user_collector).write({"credit_note_id": refund.id})
        dispute.with_user(self.user_collector).action_resolve()
        self.assertEqual(dispute.state, "resolved")
        self.assertFalse(items.debt_dispute_id)

    def test_promise_state_only_through_actions(self):
        promise = self._promise()
        for vals in (
            {"state": "kept"},
            {"state": "broken"},
            {"date_closed": self.today},
            {"amount_residual_start": 1.0},
        ):
            self._assert_write_refused(promise, vals)
        with self.assertRaises(REFUSED):
            promise.with_user(self.user_invoicing).action_mark_broken()
        promise.with_user(self.user_collector).action_mark_broken()
        self.assertEqual(promise.state, "broken")
        self.assertFalse(promise.move_line_ids.debt_promise_id)
        with self.assertRaisesRegex(UserError, "only an open promise"):
            promise.with_user(self.user_collector).action_mark_broken()

    def test_plan_state_only_through_actions(self):
        plan = self._plan()
        for vals in (
            {"state": "active"},
            {"state": "completed"},
            {"date_agreement": self.today},
            {"date_acknowledgement": self.today},
            {"date_closed": self.today},
            {"fee_move_id": self._invoice(self.customer, 5.0, days_late=1).id},
        ):
            self._assert_write_refused(plan, vals)
        self._assert_write_refused(plan.instalment_ids, {"reminder_sent": True})
        with self.assertRaisesRegex(UserError, "change only through its actions"):
            self.Plan.with_user(self.user_collector).with_context(default_state="active").create(
                {
                    "partner_id": self.customer.id,
                    "move_line_ids": self._receivable(
                        self._invoice(self.customer, 10.0, days_late=5)
                    ).ids,
                    "currency_id": self.company.currency_id.id,
                    "amount_covered": 10.0,
                    "instalment_ids": [
                        Command.create({"date_due": self.today + timedelta(days=3), "amount": 10})
                    ],
                }
            )
        with self.assertRaises(REFUSED):
            plan.with_user(self.user_invoicing).action_activate()
        with self.assertRaises(REFUSED):
            plan.with_user(self.user_other_company).action_cancel()
        self.assertEqual(plan.state, "draft")
        plan.with_user(self.user_collector).action_propose()
        with self.assertRaisesRegex(UserError, "Only a draft plan"):
            plan.with_user(self.user_collector).action_propose()
        plan.with_user(self.user_collector).action_activate()
        self.assertEqual((plan.state, plan.date_agreement), ("active", self.today))
        self.assertEqual(plan.move_line_ids.debt_plan_id, plan)
        with self.assertRaisesRegex(UserError, "Only a draft or proposed plan"):
            plan.with_user(self.user_collector).action_activate()
        plan.with_user(self.user_collector).action_cancel()
        self.assertEqual(plan.state, "cancelled")
        self.assertFalse(plan.move_line_ids.debt_plan_id)
        with self.assertRaisesRegex(UserError, "Only a draft, proposed or active plan"):
            plan.with_user(self.user_collector).action_cancel()

    def test_communication_state_only_through_actions(self):
        comm = self._communication()
        self.assertEqual(comm.state, "to_approve")
        message = comm.message_post(body="not an email")
        for vals in (
            {"state": "sent"},
            {"letter_state": "printed"},
            {"date_sent": self.today},
            {"mail_message_id": message.id},
            {"approved_by_id": self.user_manager.id},
            {"sent_body": "<p>forged</p>"},
            {"cancel_reason": "forged"},
        ):
            self._assert_write_refused(comm, vals)
        with self.assertRaisesRegex(UserError, "change only through its actions"):
            self.Communication.with_user(self.user_collector).create(
                {
                    "company_id": self.company.id,
                    "partner_id": self.customer.id,
                    "currency_id": self.company.currency_id.id,
                    "level_id": self.level.id,
                    "date": self.today,
                    "state": "queued",
                }
            )
        # Each action starts from its own state.
        with self.assertRaisesRegex(UserError, "Only communications that failed"):
            comm.with_user(self.user_collector).action_retry()
        with self.assertRaisesRegex(UserError, "no letter to print"):
            comm.with_user(self.user_collector).action_mark_printed()
        with self.assertRaises(REFUSED):
            comm.with_user(self.user_invoicing).action_approve()
        with self.assertRaises(REFUSED):
            comm.with_user(self.user_other_company).action_approve()
        self.assertEqual(comm.state, "to_approve")
        comm.with_user(self.user_collector)._skip("Customer called: paying today")
        self.assertEqual(
            (comm.state, comm.skip_reason), ("skipped", "Customer called: paying today")
        )
        with self.assertRaisesRegex(UserError, "waiting for approval"):
            comm.with_user(self.user_manager).action_approve()
        with self.assertRaisesRegex(UserError, "waiting for approval"):
            comm.with_user(self.user_collector)._skip("again")

    def test_visitors_and_portal_users_reach_no_action(self):
        """Anonymous visitors and portal users: every workflow action of every
        model refused, every record unchanged."""
        dispute, promise, plan, comm = (
            self._dispute(),
            self._promise(),
            self._plan(),
            self._communication(),
        )
        actions = [
            (dispute, "action_reject"),
            (dispute, "action_resolve"),
            (promise, "action_mark_broken"),
            (plan, "action_propose"),
            (plan, "action_activate"),
            (plan, "action_cancel"),
            (comm, "action_approve"),
            (comm, "action_retry"),
            (comm, "action_print_letters"),
            (comm, "action_mark_printed"),
        ]
        before = {record: record.read(["state"])[0] for record, _name in actions}
        for label in ("public", "portal"):
            user = self.all_users[label]
            for record, name in actions:
                with self.subTest(user=label, action=name), self.assertRaises(REFUSED):
                    getattr(record.with_user(user), name)()
        for record in before:
            record.invalidate_recordset()
            self.assertEqual(record.read(["state"])[0], before[record])

    def test_case_stage_moves_keep_their_checks(self):
        invoice = self._invoice(self.customer, 200.0, days_late=10)
        case = self._case_of(self.customer)
        self.assertTrue(case)
        for vals in (
            {"is_closed": True},
            {"date_closed": self.today},
            {"stage_before_pause_id": self.stage_formal_notice.id},
        ):
            self._assert_write_refused(case, vals)
        # A move by hand (the board's drag and drop) still works, with its checks.
        case.with_user(self.user_collector).write({"stage_id": self.stage_reminder.id})
        self.assertEqual(case.stage_id, self.stage_reminder)
        disputed = self.Stage._get_stage("disputed")
        with self.assertRaisesRegex(UserError, "cannot be put in"):
            case.with_user(self.user_collector).write({"stage_id": disputed.id})
        with self.assertRaises(REFUSED):
            case.with_user(self.user_collector).write(
                {"stage_id": self.stage_current.id, "stage_before_pause_id": disputed.id}
            )
        self.assertEqual(case.stage_id, self.stage_reminder)
        # The dispute moves the case itself, and its end brings it back.
        dispute = self.Dispute.with_user(self.user_collector).create(
            {"move_id": invoice.id, "reason_id": self.quality.id}
        )
        self.assertEqual(case.stage_id, disputed)
        self.assertEqual(case.stage_before_pause_id, self.stage_reminder)
        dispute.with_user(self.user_collector).action_reject()
        self.assertEqual(case.stage_id, self.stage_reminder)

    # === BOUNDS === #
    def test_promise_amount_bounded_by_what_is_open(self):
        with self.assertRaisesRegex(ValidationError, "more than the"):
            self._promise(amount=1e15)
        with self.assertRaisesRegex(ValidationError, "more than the"):
            self._promise(amount=1e300)
        for amount in (float("inf"), float("-inf"), float("nan")):
            with self.subTest(amount=amount), self.assertRaisesRegex(ValidationError, "finite"):
                self._promise(amount=amount)
        for amount in (0.0, -5.0):
            with self.subTest(amount=amount), self.assertRaises(ValidationError):
                self._promise(amount=amount)
        promise = self._promise(amount=375.42)
        self.assertEqual(promise.amount_residual_start, 375.42)
        with self.assertRaisesRegex(ValidationError, "finite"):
            promise.with_user(self.user_collector).write({"amount": float("nan")})
        with self.assertRaisesRegex(ValidationError, "more than the"), self.cr.savepoint():
            promise.with_user(self.user_collector).write({"amount": 375.43})
        promise.invalidate_recordset()
        self.assertEqual(promise.amount, 375.42)

    def test_non_finite_refused_in_the_form_onchange(self):
        """The form's onchange sees the number before create/write: refused
        with the same message, not a traceback."""
        Promise = self.env["debt.recovery.promise"].with_user(self.user_collector)
        for amount in (float("inf"), float("nan")):
            with self.subTest(amount=amount), self.assertRaisesRegex(ValidationError, "finite"):
                Promise.onchange({"amount": amount}, ["amount"], {"amount": {}})

    def test_plan_bounds(self):
        with self.assertRaisesRegex(ValidationError, "finite"):
            self._plan_with(fee_amount=float("inf"))
        with self.assertRaises(ValidationError):
            self._plan_with(amount_covered=0.0)
        plan = self._plan()
        with self.assertRaisesRegex(ValidationError, "finite"):
            plan.instalment_ids.with_user(self.user_collector).write({"amount": float("nan")})
        with self.assertRaisesRegex(ValidationError, "grace period"):
            plan.with_user(self.user_collector).write({"grace_days": 10**6})
        with self.assertRaisesRegex(ValidationError, "more than the"):
            self._plan_with(amount_covered=1e15)

    def _plan_with(self, amount_covered=500.0, fee_amount=0.0):
        """A plan of one instalment (of the total) on an invoice of 500."""
        invoice = self._invoice(self.customer, 500.0, days_late=10)
        return self.Plan.with_user(self.user_collector).create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": self._receivable(invoice).ids,
                "currency_id": invoice.currency_id.id,
                "amount_covered": amount_covered,
                "fee_amount": fee_amount,
                "instalment_ids": [
                    Command.create(
                        {
                            "date_due": self.today + timedelta(days=10),
                            "amount": amount_covered + fee_amount or 1.0,
                        }
                    )
                ],
            }
        )

    def _wizard(self, **vals):
        self._invoice(self.customer, 1200.0, days_late=10)
        return (
            self.env["debt.recovery.plan.wizard"]
            .with_user(self.user_collector)
            .create({"partner_id": self.customer.id, **vals})
        )

    def test_plan_wizard_bounds(self):
        with self.assertRaisesRegex(ValidationError, "at most 120 instalments"):
            self._wizard(instalment_count=1_000_000)
        with self.assertRaisesRegex(ValidationError, "at most 120 instalments"):
            self._wizard(instalment_count=120, down_payment=100.0)
        with self.assertRaisesRegex(ValidationError, "finite"):
            self._wizard(down_payment=float("inf"))
        with self.assertRaisesRegex(ValidationError, "finite"):
            self._wizard(instalment_count=10**12)
        with self.assertRaisesRegex(ValidationError, "cannot exceed the debt covered"):
            self._wizard(down_payment=1e15).action_create_plan()
        with self.assertRaisesRegex(ValidationError, "grace period"):
            self._wizard(grace_days=10**6).action_create_plan()
        wizard = self._wizard(instalment_count=120, frequency="weekly")
        self.assertEqual(len(wizard.schedule_ids), 120)
        wizard.action_create_plan()
        plan = self.Plan.search([("partner_id", "=", self.customer.id)])
        self.assertEqual((plan.state, len(plan.instalment_ids)), ("active", 120))
        with self.assertRaisesRegex(ValidationError, "at most 120 instalments"):
            plan.with_user(self.user_collector)._reschedule(
                [
                    {"date_due": self.today + timedelta(days=day), "amount": 10.0}
                    for day in range(1, 122)
                ]
            )

    def test_level_and_policy_numbers(self):
        level = self.level.with_user(self.user_manager)
        for vals in (
            {"min_amount": float("inf")},
            {"fee_amount": float("nan")},
            {"days": 10**12},
            {"days": 10**6},
            {"min_amount": -1.0},
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                level.write(vals)
        with self.assertRaises(ValidationError):
            self.policy.with_user(self.user_manager).write({"min_days_between": 10**6})

    # === SEARCH OPERATORS === #
    def test_days_overdue_search_operators(self):
        self._invoice(self.customer, 100.0, days_late=1)
        case = self._case_of(self.customer)
        self.assertEqual(case.oldest_overdue_days, 1)
        Case = self.Case.with_user(self.user_collector)
        Move = self.env["account.move"].with_user(self.user_invoicing)
        domains = [
            ("=", 10**12),
            (">", 10**12),
            (">=", 10**12),
            ("<", 10**12),
            ("<=", 10**12),
            ("!=", 10**12),
            ("=", -(10**12)),
            (">", -(10**12)),
            ("in", [1, 2]),
            ("not in", [1, 2]),
            ("in", []),
            ("!=", 1),
            ("=", False),
            ("!=", False),
        ]
        for operator, value in domains:
            with self.subTest(operator=operator, value=value):
                Case.search([("oldest_overdue_days", operator, value)])
                Move.search([("debt_days_overdue", operator, value)])
        self.assertIn(case, Case.search([("oldest_overdue_days", "in", [1, 2])]))
        self.assertNotIn(case, Case.search([("oldest_overdue_days", "not in", [1, 2])]))
        self.assertNotIn(case, Case.search([("oldest_overdue_days", "!=", 1)]))
        self.assertIn(case, Case.search([("oldest_overdue_days", "<", 10**12)]))
        self.assertFalse(Case.search([("oldest_overdue_days", ">", 10**12)]))
        with self.assertRaises(UserError):
            Case.search([("oldest_overdue_days", "like", "1")])
