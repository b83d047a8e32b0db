import threading
from datetime import timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestEscalation(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.Escalation = cls.env["debt.recovery.escalation"]
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        levels = cls.policy.level_ids.sorted("sequence")
        cls.courtesy, cls.friendly, cls.firm, cls.formal, cls.final, cls.handoff = levels
        cls.customer.email = "ap@late-payer.example.com"

    def _run(self, partners=None, **kwargs):
        """(customers done, customers left) of a run now."""
        result = self.Escalation._run(self.company, partners=partners, **kwargs)
        self.assertFalse(result.locked)
        return result.done, result.remaining

    def _comms(self, partner=None):
        return self.Communication.search(
            [("partner_id", "=", (partner or self.customer).id)], order="id"
        )

    def test_default_policy_copied_for_the_company(self):
        self.assertTrue(self.policy.is_default)
        self.assertEqual(self.policy.company_id, self.company)
        self.assertEqual(
            [lv.days for lv in self.policy.level_ids.sorted("sequence")], [-3, 7, 21, 35, 60, 75]
        )
        self.assertTrue(self.handoff.needs_approval)
        self.assertFalse(self.handoff.channel_email, "The hand-off sends nothing by itself.")

    def test_levels_per_due_date_grouped_per_customer_and_currency(self):
        # Straight to the level of the age (a policy's choice), to see each
        # item get its own level.
        self.policy.escalation_mode = "age"
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self.customer_contact.email = "lucy@late-payer.example.com"
        inv_friendly = self._invoice(self.customer, 100.0, days_late=10)
        inv_firm = self._invoice(self.customer_contact, 200.0, days_late=25)
        inv_eur = self._invoice(self.customer, 300.0, days_late=40, currency=eur)
        self._run()
        comms = self._comms()
        self.assertEqual(len(comms), 2, "One communication per currency, not one per invoice.")
        local = comms.filtered(lambda c: c.currency_id == self.company.currency_id)
        foreign = comms - local
        self.assertEqual(local.level_id, self.firm, "The communication takes the highest level.")
        self.assertEqual(local.line_ids.move_id, inv_friendly | inv_firm)
        self.assertEqual(
            {line.move_id: line.level_id for line in local.line_ids},
            {inv_friendly: self.friendly, inv_firm: self.firm},
        )
        self.assertEqual(foreign.level_id, self.formal)
        self.assertEqual(foreign.amount_total, 300.0)
        self.assertEqual(local.amount_total, 300.0, "100 + 200, in the invoices' currency.")
        self.assertEqual(local.name, f"{self.firm.name} - {self.customer.display_name}")
        self.assertEqual(comms.line_ids.company_id, self.company)
        self.assertEqual(foreign.line_ids.move_id, inv_eur)
        receivable = inv_firm.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        self.assertEqual(receivable.debt_level_id, self.firm)
        self.assertEqual(receivable.debt_level_date, self.today)
        self.assertEqual(local.state, "sent")
        self.assertTrue(local.mail_message_id, "The email is on record.")
        self.assertEqual(local.mail_message_id.partner_ids, self.customer_contact)
        case = self._case_of(self.customer)
        self.assertEqual(local.case_id, case)
        self.assertEqual(foreign.case_id, case)
        self.assertEqual(case.origin, "auto")
        self.assertAlmostEqual(case.amount_due, 450.0, msg="100 + 200 + EUR 300 at 2.0.")
        self.assertEqual(case.oldest_due_date, inv_eur.invoice_date_due)
        self.assertIn("Case opened", case.message_ids[-1].body)
        self.assertEqual(
            case.stage_id, self.stage_formal_notice, "The case climbs with the levels."
        )
        self.assertIn(local.mail_message_id, case.message_ids)
        self.assertTrue(
            any(
                "Formal Notice of Default" in body
                for body in self.customer.message_ids.mapped("body")
            )
        )

    def test_escalation_opens_the_missing_cases(self):
        # A ledger posted before the addon (or between two case syncs): no case yet.
        late = self._invoice(self.customer, 300.0, days_late=10, post=False)
        late.with_context(debt_recovery_skip_sync=True).action_post()
        other = self.env["res.partner"].create({"name": "Courtesy Ltd", "is_company": True})
        soon = self._invoice(other, 100.0, days_late=-2, post=False)
        soon.with_context(debt_recovery_skip_sync=True).action_post()
        self.assertFalse(self._case_of(self.customer))
        self._run()
        case = self._case_of(self.customer)
        self.assertEqual(self._comms().case_id, case)
        self.assertEqual(case.origin, "auto")
        self.assertAlmostEqual(case.amount_due, 300.0)
        self.assertEqual(case.oldest_due_date, late.invoice_date_due)
        self.assertEqual(case.move_line_ids, late.line_ids.filtered("debit"))
        self.assertIn("Case opened", case.message_ids[-1].body)
        self.assertTrue(self._comms(other), "The courtesy reminder is sent...")
        self.assertFalse(self._case_of(other), "...but opens no case: nothing is overdue.")
        # Only a courtesy reminder today, but a debt overdue (kept out of the
        # reminders): the reminder belongs to the customer's case.
        third = self.env["res.partner"].create({"name": "Slow Ltd", "is_company": True})
        for days_late in (10, -2):
            move = self._invoice(third, 100.0, days_late=days_late, post=False)
            move.debt_no_reminder = days_late > 0
            move.with_context(debt_recovery_skip_sync=True).action_post()
        self._run(partners=third)
        self.assertEqual(self._comms(third).level_id, self.courtesy)
        self.assertTrue(self._case_of(third))
        self.assertEqual(self._comms(third).case_id, self._case_of(third))

    def test_courtesy_reminder_before_due_date(self):
        soon = self._invoice(self.customer, 100.0, days_late=-2)
        later = self.env["res.partner"].create({"name": "Later Ltd", "is_company": True})
        self._invoice(later, 100.0, days_late=-5)
        self._run()
        comm = self._comms()
        self.assertEqual(comm.level_id, self.courtesy)
        self.assertEqual(comm.line_ids.move_id, soon)
        self.assertFalse(comm.case_id, "Nothing is overdue: no case for a courtesy reminder.")
        self.assertFalse(self._comms(later), "Five days before the due date is too early.")

    def test_tolerance_skips_small_amounts(self):
        self.friendly.min_amount = 50.0
        self._invoice(self.customer, 20.0, days_late=10)
        self._run()
        self.assertFalse(self._comms(), "Below the tolerance: skipped and not marked.")
        self._invoice(self.customer, 40.0, days_late=8)
        self._run()
        self.assertEqual(self._comms().amount_total, 60.0, "Together they pass the tolerance.")

    def test_paid_and_excluded_items_get_nothing(self):
        paid = self._invoice(self.customer, 100.0, days_late=10)
        self._pay(paid)
        flagged = self.env["res.partner"].create({"name": "Flagged", "is_company": True})
        flagged_invoice = self._invoice(flagged, 100.0, days_late=10)
        flagged_invoice.debt_no_reminder = True
        vip = self.env["res.partner"].create(
            {"name": "VIP", "is_company": True, "debt_no_reminder": True}
        )
        self._invoice(vip, 100.0, days_late=10)
        shy = self.env["res.partner"].create(
            {"name": "Shy", "is_company": True, "debt_do_not_contact": True}
        )
        self._invoice(shy, 100.0, days_late=10)
        quiet = self.env["res.partner"].create(
            {"name": "Quiet", "is_company": True, "debt_quiet_until": self.today}
        )
        self._invoice(quiet, 100.0, days_late=10)
        self._run()
        for partner in (self.customer, flagged, vip, shy, quiet):
            self.assertFalse(self._comms(partner), partner.name)
        with freeze_time(self.today + timedelta(days=1)):
            self._run(partners=quiet)
            self.assertTrue(self._comms(quiet), "The quiet period is over.")

    def test_twice_the_same_day_sends_once(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self.assertEqual(self._run(), (1, 0))
        self.assertEqual(self._run(), (0, 0))
        self.assertEqual(len(self._comms()), 1)
        # The next days: nothing until the next level is due, then exactly that.
        with freeze_time(self.today + timedelta(days=5)):
            self._run()
            self.assertEqual(len(self._comms()), 1)
        with freeze_time(self.today + timedelta(days=11)):
            self._run()
            comms = self._comms()
            self.assertEqual(comms.level_id, self.friendly | self.firm)

    def test_newest_invoice_does_not_block_older_ones(self):
        old = self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        with freeze_time(self.today + timedelta(days=12)):
            new = self._invoice(self.customer, 50.0, days_late=8)
            self._run()
            last = self._comms()[-1]
            self.assertEqual(
                {line.move_id: line.level_id for line in last.line_ids},
                {old: self.firm, new: self.friendly},
            )

    def test_first_contact_is_the_first_reminder_then_one_level_at_a_time(self):
        old = self._invoice(self.customer, 100.0, days_late=70)
        self._run()
        comm = self._comms()
        self.assertEqual(
            comm.level_id, self.friendly, "A 70-day-old item: the first contact is a reminder."
        )
        self._run()
        self.assertEqual(len(self._comms()), 1, "At most one communication per run and day.")
        for days, level in ((7, self.firm), (14, self.formal), (24, self.final)):
            with freeze_time(self.today + timedelta(days=days)):
                self._run()
                self.assertEqual(self._comms()[-1].level_id, level, f"day {days}")
        self.assertEqual(len(self._comms()), 4, "One level up per communication.")
        receivable = old.line_ids.filtered("debit")
        self.assertEqual(receivable.debt_level_id, self.final)

        straight = self.env["res.partner"].create({"name": "Straight Ltd", "is_company": True})
        self.policy.escalation_mode = "age"
        self._invoice(straight, 100.0, days_late=65)
        self._run(partners=straight)
        self.assertEqual(
            self._comms(straight).level_id, self.final, "By choice: the level of the age."
        )

    def test_no_second_communication_within_the_gap(self):
        self.assertEqual(self.policy.min_days_between, 7)
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        with freeze_time(self.today + timedelta(days=3)):
            newer = self._invoice(self.customer, 50.0, days_late=8)
            self.assertEqual(self._run(), (0, 0), "Three days after the last one: nothing.")
        with freeze_time(self.today + timedelta(days=7)):
            self.assertEqual(self._run(), (1, 0))
            last = self._comms()[-1]
            self.assertEqual(last.level_id, self.friendly)
            self.assertEqual(last.line_ids.move_id, newer)
        self.policy.min_days_between = 0
        with freeze_time(self.today + timedelta(days=8)):
            self._invoice(self.customer, 20.0, days_late=7)
            self.assertEqual(self._run(), (1, 0), "Without a gap, the next day is fine.")
        with self.assertRaises(ValidationError):
            self.policy.min_days_between = -1

    def test_courtesy_only_before_the_due_date(self):
        due_today = self._invoice(self.customer, 100.0, days_late=0)
        late_3 = self.env["res.partner"].create({"name": "Three Days Ltd", "is_company": True})
        self._invoice(late_3, 100.0, days_late=3)
        self._run()
        comm = self._comms()
        self.assertEqual(comm.level_id, self.courtesy, "Due today is not overdue yet.")
        self.assertEqual(comm.line_ids.move_id, due_today)
        self.assertEqual(comm.line_ids.days_overdue, 0)
        self.assertFalse(
            self._comms(late_3), "Three days overdue: no courtesy reminder, no reminder yet."
        )
        with freeze_time(self.today + timedelta(days=4)):
            self._run(partners=late_3)
            self.assertEqual(self._comms(late_3).level_id, self.friendly)
        with freeze_time(self.today + timedelta(days=7)):
            self._run(partners=self.customer)
            self.assertEqual(
                self._comms().level_id,
                self.courtesy | self.friendly,
                "After the courtesy reminder, the first overdue level.",
            )

    def test_open_credits_are_deducted(self):
        invoice = self._invoice(self.customer, 500.0, days_late=10)
        refund = self._invoice(self.customer, 500.0, days_late=10, post=False)
        refund.move_type = "out_refund"
        refund.action_post()
        self.assertEqual(self._run(), (0, 0), "Nothing to claim is no work left either.")
        self.assertFalse(self._comms(), "A credit note cancels the debt: nothing to claim.")

        partial = self.env["res.partner"].create(
            {"name": "Partial Ltd", "is_company": True, "email": "p@example.com"}
        )
        self._invoice(partial, 1000.0, days_late=10)
        credit = self._invoice(partial, 300.0, days_late=40, post=False)
        credit.move_type = "out_refund"
        credit.action_post()
        self._run(partners=partial)
        comm = self._comms(partial)
        self.assertEqual(
            (comm.amount_overdue, comm.amount_credit, comm.amount_total), (1000.0, 300.0, 700.0)
        )
        self.assertEqual(comm.credit_line_ids, credit.line_ids.filtered("credit"))

        # An unapplied payment (registered on the account, not on the invoice).
        prepaid = self.env["res.partner"].create({"name": "Prepaid Ltd", "is_company": True})
        self._invoice(prepaid, 400.0, days_late=10)
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": prepaid.id,
                "amount": 150.0,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        self._run(partners=prepaid)
        self.assertEqual(self._comms(prepaid).amount_total, 250.0, "400 less 150 unapplied.")

        # A policy may switch netting off.
        self.policy.net_credits = False
        self._run(partners=self.customer)
        self.assertEqual(self._comms().amount_total, 500.0)
        self.assertEqual(self._comms().line_ids.move_id, invoice)

    def test_item_on_a_closed_case_is_reminded(self):
        self._invoice(self.customer, 100.0, days_late=10)
        case = self._case_of(self.customer)
        case.with_context(debt_recovery_skip_sync=True).stage_id = self.stage_closed
        self.assertTrue(case.is_closed)
        self._run()
        self.assertEqual(self._comms().level_id, self.friendly, "A closed case holds nothing.")

    def test_net_amount_below_tolerance_sends_nothing(self):
        self.friendly.min_amount = 100.0
        self._invoice(self.customer, 150.0, days_late=10)
        credit = self._invoice(self.customer, 80.0, days_late=10, post=False)
        credit.move_type = "out_refund"
        credit.action_post()
        self._run()
        self.assertFalse(self._comms(), "150 less 80 is below the tolerance of 100.")

    def test_case_held_by_its_stage_gets_nothing(self):
        self._invoice(self.customer, 100.0, days_late=10)
        case = self._case_of(self.customer)
        # In Legal Action by the stage alone (a move by hand asks for the legal
        # action, test_recovery_stage): the unchecked move its record makes.
        legal = self.env["debt.recovery.stage"]._get_stage("legal")
        case._debt_move_stage({"stage_id": legal.id})
        self._run()
        self.assertFalse(self._comms(), "A case moved to a pause stage holds its escalation.")
        receivable = case.move_line_ids
        self.assertEqual(receivable.debt_exclusion_reason, f"Case in stage {legal.name}")
        case.stage_id = self.stage_reminder
        self._run()
        self.assertEqual(self._comms().level_id, self.friendly, "Moved back: it resumes.")

    def test_crash_in_the_middle_then_rerun(self):
        second = self.env["res.partner"].create(
            {"name": "Second Ltd", "is_company": True, "email": "second@example.com"}
        )
        self._invoice(self.customer, 100.0, days_late=10)
        self._invoice(second, 100.0, days_late=10)
        # First batch committed (one customer), then the run dies in the second.
        self.assertEqual(self._run(limit=1), (1, 1))
        with self.assertRaises(RuntimeError), self.cr.savepoint():
            self._run(limit=1)
            self.assertEqual(len(self._comms(second)), 1)
            raise RuntimeError("worker killed")
        self.assertFalse(self._comms(second), "The killed batch left nothing behind.")
        self.assertEqual(self._run(), (1, 0))
        self.assertEqual(len(self._comms(self.customer)), 1)
        self.assertEqual(len(self._comms(second)), 1)

    def test_cron_batches_cover_every_customer_once(self):
        """Levels computed once, communications made batch by batch: none missed."""
        others = self.env["res.partner"].create(
            [
                {"name": f"Batch {i}", "is_company": True, "email": f"b{i}@example.com"}
                for i in range(4)
            ]
        )
        customers = self.customer | others
        for partner in customers:
            self._invoice(partner, 100.0, days_late=10)
        self.assertEqual(self._run(partners=customers, send=False, batch_size=2), (5, 0))
        for partner in customers:
            comm = self._comms(partner)
            self.assertEqual(len(comm), 1, partner.name)
            self.assertEqual((comm.state, comm.level_id), ("queued", self.friendly))
        self.assertEqual(self._run(partners=customers, send=False, batch_size=2), (0, 0))

    def test_one_level_per_item_is_enforced_by_the_database(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        line = self._comms().line_ids
        with self.assertRaises(IntegrityError), self.cr.savepoint(), mute_logger("odoo.sql_db"):
            self.Communication.create(
                {
                    "company_id": self.company.id,
                    "partner_id": self.customer.id,
                    "currency_id": line.currency_id.id,
                    "level_id": line.level_id.id,
                    "date": self.today,
                    "line_ids": [
                        Command.create(
                            {
                                "move_line_id": line.move_line_id.id,
                                "level_id": line.level_id.id,
                                "currency_id": line.currency_id.id,
                            }
                        )
                    ],
                }
            )
            self.env.flush_all()

    def test_contact_routing_and_letter_fallback(self):
        collections = self.env["res.partner"].create(
            {
                "name": "Credit Desk",
                "parent_id": self.customer.id,
                "type": "collections",
                "email": "credit@late-payer.example.com",
            }
        )
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comms()
        self.assertEqual(comm.contact_id, collections)
        self.assertEqual(comm.mail_message_id.partner_ids, collections)

        no_email = self.env["res.partner"].create({"name": "Paper Only", "is_company": True})
        self._invoice(no_email, 100.0, days_late=10)
        self._run(partners=no_email)
        letter = self._comms(no_email)
        self.assertFalse(letter.channel_email)
        self.assertTrue(letter.channel_letter, "No email anywhere: a printed letter instead.")
        self.assertEqual(letter.letter_state, "to_print")
        letter.action_mark_printed()
        self.assertEqual(letter.letter_state, "printed")

    def test_approval_queue(self):
        self.policy.escalation_mode = "age"
        self._invoice(self.customer, 100.0, days_late=80)
        self.customer.debt_policy_id = False
        self._run()
        comm = self._comms()
        self.assertEqual(comm.level_id, self.handoff)
        self.assertEqual(comm.state, "to_approve")
        self.assertFalse(comm.case_id.activity_ids, "Nothing happens before approval.")
        comm.with_user(self.user_collector).action_approve()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.approved_by_id, self.user_collector)
        self.assertTrue(comm.case_id.activity_ids, "The phone level leaves a call to make.")

        other = self.env["res.partner"].create({"name": "Skipped Ltd", "is_company": True})
        self._invoice(other, 100.0, days_late=80)
        self._run(partners=other)
        pending = self._comms(other)
        skip = self.env["debt.recovery.communication.skip"].with_user(self.user_collector)
        with self.assertRaises(UserError):
            skip.create({"communication_ids": pending.ids, "reason": " "}).action_skip()
        skip.create(
            {"communication_ids": pending.ids, "reason": "Agency already on it"}
        ).action_skip()
        self.assertEqual(pending.state, "skipped")
        self.assertEqual(pending.skip_reason, "Agency already on it")
        self._run(partners=other)
        self.assertEqual(len(self._comms(other)), 1, "A skipped level is not sent again.")

    def test_dry_run_writes_nothing(self):
        self._invoice(self.customer, 100.0, days_late=10)
        drafts = self.Escalation._preview(self.company)
        self.assertEqual(
            [(d.customer, d.level, d.amount) for d in drafts],
            [(self.customer, self.friendly, 100.0)],
        )
        self.assertFalse(self._comms())
        wizard = self.env["debt.recovery.escalation.run"].with_user(self.user_manager).create({})
        wizard.company_ids = self.company
        wizard.action_preview()
        self.assertEqual(wizard.line_ids.partner_id, self.customer)
        self.assertFalse(self._comms())
        wizard.action_run()
        self.assertEqual(len(self._comms()), 1)

    def test_send_reminder_now_from_case(self):
        self._invoice(self.customer, 100.0, days_late=10)
        case = self._case_of(self.customer)
        case.with_user(self.user_collector).action_send_reminder_now()
        self.assertEqual(len(self._comms()), 1)
        with self.assertRaises(UserError):
            case.with_user(self.user_collector).action_send_reminder_now()

    def test_bad_configuration_is_refused(self):
        Level = self.env["debt.recovery.level"]
        template = self.friendly.mail_template_id
        with self.assertRaises(ValidationError), self.cr.savepoint():
            Level.create(
                {
                    "policy_id": self.policy.id,
                    "name": "Same day",
                    "days": 21,
                    "sequence": 35,
                    "channel_letter": True,
                }
            )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            Level.create(
                {
                    "policy_id": self.policy.id,
                    "name": "Back in time",
                    "days": 1,
                    "sequence": 99,
                    "channel_letter": True,
                }
            )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            Level.create(
                {"policy_id": self.policy.id, "name": "Silent", "days": 100, "sequence": 99}
            )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            Level.create(
                {
                    "policy_id": self.policy.id,
                    "name": "No template",
                    "days": 100,
                    "sequence": 99,
                    "channel_email": True,
                }
            )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            Level.create(
                {
                    "policy_id": self.policy.id,
                    "name": "Fee",
                    "days": 100,
                    "sequence": 99,
                    "channel_email": True,
                    "mail_template_id": template.id,
                    "fee_amount": -5.0,
                }
            )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.env["debt.recovery.policy"].create({"name": "Second default", "is_default": True})
        company_2 = self.setup_other_company()["company"]
        other_policy = self.env["debt.recovery.policy"]._get_company_defaults(company_2)[company_2]
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.customer.debt_policy_id = other_policy
        self.assertEqual(len(self.policy.level_ids), 6, "Nothing was changed.")


@tagged("post_install", "-at_install")
class CommittedCase(DebtRecoveryCommon):
    """On committed data with separate cursors (each its own database session,
    as two cron workers, or a cron worker and a collector's request)."""

    def _committed_customers(self, count):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            env["debt.recovery.policy"]._get_company_defaults(company)
            partners = env["res.partner"].create(
                [
                    {"name": f"Committed {i}", "is_company": True, "email": f"l{i}@example.com"}
                    for i in range(count)
                ]
            )
            moves = (
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "partner_id": partner.id,
                            "invoice_date": self.today - timedelta(days=40),
                            "invoice_date_due": self.today - timedelta(days=10),
                            "invoice_payment_term_id": False,
                            "invoice_line_ids": [
                                Command.create({"name": "Work", "quantity": 1, "price_unit": 80.0})
                            ],
                        }
                        for partner in partners
                    ]
                )
            )
            moves.action_post()
            return partners.ids, moves.ids

    def _cleanup(self, partner_ids, move_ids):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cron = env.ref("debt_recovery.ir_cron_debt_recovery_escalate")
            env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
            # Queued communications are records the model keeps: removed
            # here by SQL (their lines go with them).
            cr.execute(
                "DELETE FROM debt_recovery_communication WHERE partner_id IN %s",
                [tuple(partner_ids)],
            )
            moves = env["account.move"].browse(move_ids)
            moves.button_draft()
            moves.unlink()
            env["debt.recovery.case"].search([("partner_id", "in", partner_ids)]).unlink()
            env["res.partner"].browse(partner_ids).write({"active": False})

    def _count(self, partner_ids):
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM debt_recovery_communication WHERE partner_id IN %s",
                [tuple(partner_ids)],
            )
            return cr.fetchone()[0]


@tagged("post_install", "-at_install")
class TestEscalationConcurrency(CommittedCase):
    """Two workers run the escalation at the same time; the daily run's lock."""

    def test_two_workers_send_once(self):
        partner_ids, move_ids = self._committed_customers(1)
        registry = self.env.registry
        barrier = threading.Barrier(2)
        results = []

        def worker():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait()
                result = env["debt.recovery.escalation"]._run(
                    env.ref("base.main_company"), partners=env["res.partner"].browse(partner_ids)
                )
                results.append(result)

        threads = [threading.Thread(target=worker) for _i in range(2)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            self.assertEqual(self._count(partner_ids), 1, f"Exactly one communication: {results}")
        finally:
            self._cleanup(partner_ids, move_ids)

    def test_manual_send_during_the_daily_run_leaves_the_day_unchanged(self):
        partner_ids, move_ids = self._committed_customers(3)
        registry = self.env.registry
        try:
            with registry.cursor() as daily_cr, registry.cursor() as user_cr:
                daily = api.Environment(daily_cr, SUPERUSER_ID, {})["debt.recovery.escalation"]
                self.assertTrue(daily._try_lock())
                # A batch commit of the daily run: its session lock stays.
                daily_cr.commit()
                user_env = api.Environment(user_cr, SUPERUSER_ID, {})
                case = user_env["debt.recovery.case"].search([("partner_id", "=", partner_ids[0])])
                with self.assertRaisesRegex(UserError, "daily escalation is running"):
                    case.action_send_reminder_now()
                # A second start of the cron finds the lock: it does nothing and
                # comes back later instead of reporting the day done.
                user_env["debt.recovery.escalation"]._cron_escalate()
                cron = user_env.ref("debt_recovery.ir_cron_debt_recovery_escalate")
                self.assertTrue(
                    user_env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]),
                    "The cron that found the lock taken comes back.",
                )
                user_cr.commit()
                self.assertEqual(self._count(partner_ids), 0)
                daily._unlock()
                daily_cr.commit()
                # The rerun does the whole day.
                user_env["debt.recovery.escalation"]._cron_escalate()
                user_cr.commit()
                self.assertEqual(self._count(partner_ids), 3)
                with self.assertRaisesRegex(UserError, "Nothing to send"):
                    case.action_send_reminder_now()
            self.assertEqual(self._count(partner_ids), 3, "One communication per customer.")
        finally:
            self._cleanup(partner_ids, move_ids)


@tagged("post_install", "-at_install")
class TestEscalationRecords(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        cls.friendly = cls.policy.level_ids.filtered(lambda lv: lv.days == 7)
        cls.customer.email = "ap@late-payer.example.com"

    def test_email_carries_letter_and_invoices_and_reports_bounces(self):
        self.friendly.attach_invoices = True
        invoice = self._invoice(self.customer, 100.0, days_late=10)
        self.Communication._run_escalation(self.company)
        comm = self.Communication.search([("partner_id", "=", self.customer.id)])
        names = comm.attachment_ids.mapped("name")
        self.assertEqual(len(names), 2, names)
        self.assertTrue(any(name.startswith("Friendly Reminder") for name in names))
        self.assertIn(f"{invoice.name.replace('/', '_')}.pdf", names)
        self.assertEqual(comm.email_status, "queued", "Sent through the mail queue.")
        mail = self.env["mail.mail"].search([("mail_message_id", "=", comm.mail_message_id.id)])
        self.assertEqual(mail.state, "outgoing")
        comm.mail_message_id.notification_ids.sudo().write(
            {"notification_status": "bounce", "failure_type": "mail_bounce"}
        )
        comm.invalidate_recordset(["email_status"])
        self.assertEqual(comm.email_status, "failed")

    def test_item_levels_use_a_fixed_number_of_queries(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Bulk {i}", "is_company": True} for i in range(40)]
        )
        for index, partner in enumerate(partners):
            self._invoice(partner, 50.0 + index, days_late=10 + index)

        def count(customers):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            targets = self.env["debt.recovery.escalation"]._select_targets(
                self.today, self.company, partners=customers.browse(customers.ids)
            )
            self.assertEqual(len(targets), len(customers))
            return self.env.cr.sql_log_count - before

        count(partners[20:30])  # warm the registry caches
        self.assertEqual(count(partners[:10]), count(partners), "Queries must not grow.")

    def test_daily_cron_queues_then_sends(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self.env.ref("debt_recovery.ir_cron_debt_recovery_escalate").method_direct_trigger()
        comm = self.Communication.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(comm.level_id, self.friendly)
        self.assertEqual(comm.state, "queued", "The escalation only queues.")
        self.assertFalse(comm.mail_message_id)
        send_cron = self.env.ref("debt_recovery.ir_cron_debt_recovery_send")
        send_cron.method_direct_trigger()
        self.assertEqual(comm.state, "sent")
        message = comm.mail_message_id
        self.assertTrue(message)
        send_cron.method_direct_trigger()
        comm._send()
        self.assertEqual(comm.mail_message_id, message, "Never sent twice.")

    def test_escalation_run_queries_do_not_grow(self):
        partners = self.env["res.partner"].create(
            [
                {"name": f"Run {i}", "is_company": True, "email": f"r{i}@example.com"}
                for i in range(40)
            ]
        )
        for index, partner in enumerate(partners):
            self._invoice(partner, 50.0 + index, days_late=10 + index % 5)  # one level

        def count(customers):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            done, _remaining = self.Communication._run_escalation(
                self.company, partners=customers.browse(customers.ids), send=False
            )
            self.assertEqual(done, len(customers))
            return self.env.cr.sql_log_count - before

        count(partners[30:35])  # warm the registry caches
        self.assertEqual(count(partners[:5]), count(partners[5:30]), "Queries must not grow.")
