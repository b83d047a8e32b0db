from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import BaseCase, Form, tagged

from ..tools.limitation import (
    ACKNOWLEDGEMENT,
    COURT_CLAIM,
    EXTRAJUDICIAL_CLAIM,
    PART_PAYMENT,
    UNSIGNED_ACKNOWLEDGEMENT,
    WRITTEN_REMINDER,
    last_due_date_time_barred,
    limitation_date,
    may_be_time_barred,
)
from .common import DebtRecoveryCommon


class TestLimitationRules(BaseCase):
    """Limitation dates against dates counted by hand, per jurisdiction."""

    def test_germany_end_of_year_then_three_years_from_an_acknowledgement(self):
        due = date(2022, 3, 15)
        # The period starts on 1 January 2023: its last day is 31 December 2025.
        self.assertEqual(limitation_date("de", due), date(2025, 12, 31))
        # A part payment restarts 3 years from its own date, no year-end.
        self.assertEqual(
            limitation_date("de", due, [(date(2024, 6, 10), PART_PAYMENT)]), date(2027, 6, 10)
        )
        self.assertEqual(
            limitation_date("de", due, [(date(2024, 6, 10), ACKNOWLEDGEMENT)]), date(2027, 6, 10)
        )
        # An acknowledgement in the first year would end sooner: it never shortens.
        self.assertEqual(
            limitation_date("de", due, [(date(2022, 4, 1), ACKNOWLEDGEMENT)]), date(2025, 12, 31)
        )
        # A reminder interrupts nothing in Germany.
        self.assertEqual(
            limitation_date("de", due, [(date(2025, 6, 1), WRITTEN_REMINDER)]), date(2025, 12, 31)
        )
        # Due on 31 December: still the end of that year.
        self.assertEqual(limitation_date("de", date(2022, 12, 31)), date(2025, 12, 31))

    def test_france_five_years_restarted_by_acknowledgement_or_court_claim(self):
        due = date(2022, 3, 15)
        self.assertEqual(limitation_date("fr", due), date(2027, 3, 15))
        self.assertEqual(
            limitation_date("fr", due, [(date(2024, 6, 10), ACKNOWLEDGEMENT)]), date(2029, 6, 10)
        )
        self.assertEqual(
            limitation_date(
                "fr",
                due,
                [(date(2024, 6, 10), PART_PAYMENT), (date(2026, 1, 5), COURT_CLAIM)],
            ),
            date(2031, 1, 5),
        )
        self.assertEqual(
            limitation_date("fr", due, [(date(2023, 1, 9), WRITTEN_REMINDER)]), date(2027, 3, 15)
        )
        # Due on 29 February: the 28th five years later.
        self.assertEqual(limitation_date("fr", date(2024, 2, 29)), date(2029, 2, 28))

    def test_united_kingdom_six_years_never_revived_once_expired(self):
        due = date(2018, 3, 15)
        self.assertEqual(limitation_date("uk", due), date(2024, 3, 15))
        self.assertEqual(
            limitation_date("uk", due, [(date(2020, 5, 4), PART_PAYMENT)]), date(2026, 5, 4)
        )
        self.assertEqual(
            limitation_date("uk", due, [(date(2023, 11, 20), ACKNOWLEDGEMENT)]),
            date(2029, 11, 20),
        )
        # Expired on 15 March 2024: an acknowledgement a fortnight later is too late.
        self.assertEqual(
            limitation_date("uk", due, [(date(2024, 4, 1), ACKNOWLEDGEMENT)]), date(2024, 3, 15)
        )
        self.assertEqual(
            limitation_date(
                "uk", due, [(date(2024, 4, 1), ACKNOWLEDGEMENT), (date(2024, 5, 1), PART_PAYMENT)]
            ),
            date(2024, 3, 15),
        )
        # Letters interrupt nothing in the UK.
        self.assertEqual(
            limitation_date("uk", due, [(date(2023, 1, 9), WRITTEN_REMINDER)]), date(2024, 3, 15)
        )

    def test_a_promise_not_signed_restarts_everywhere_but_in_the_united_kingdom(self):
        due = date(2022, 3, 15)
        promise = [(date(2024, 6, 10), UNSIGNED_ACKNOWLEDGEMENT)]
        self.assertEqual(limitation_date("uk", due, promise), date(2028, 3, 15))
        self.assertEqual(limitation_date("de", due, promise), date(2027, 6, 10))
        self.assertEqual(limitation_date("fr", due, promise), date(2029, 6, 10))
        self.assertEqual(limitation_date("nl", due, promise), date(2029, 6, 10))
        self.assertEqual(limitation_date("es", due, promise), date(2029, 6, 10))

    def test_netherlands_every_written_reminder_restarts(self):
        due = date(2020, 1, 31)
        self.assertEqual(limitation_date("nl", due), date(2025, 1, 31))
        self.assertEqual(
            limitation_date("nl", due, [(date(2024, 12, 2), WRITTEN_REMINDER)]), date(2029, 12, 2)
        )
        # A chain of reminders, each within the period of the one before.
        reminders = [(date(2021, 1, 10), WRITTEN_REMINDER), (date(2025, 6, 1), WRITTEN_REMINDER)]
        self.assertEqual(limitation_date("nl", due, reminders), date(2030, 6, 1))
        self.assertEqual(
            limitation_date("nl", due, [(date(2022, 8, 8), PART_PAYMENT)]), date(2027, 8, 8)
        )

    def test_spain_extrajudicial_claims_and_acknowledgements(self):
        due = date(2019, 7, 1)
        self.assertEqual(limitation_date("es", due), date(2024, 7, 1))
        self.assertEqual(
            limitation_date("es", due, [(date(2023, 2, 15), WRITTEN_REMINDER)]), date(2028, 2, 15)
        )
        self.assertEqual(
            limitation_date("es", due, [(date(2024, 7, 1), EXTRAJUDICIAL_CLAIM)]), date(2029, 7, 1)
        )
        self.assertEqual(
            limitation_date("es", due, [(date(2020, 3, 3), ACKNOWLEDGEMENT)]), date(2025, 3, 3)
        )

    def test_default_five_years_restarted_by_acknowledgement_only(self):
        due = date(2021, 9, 30)
        self.assertEqual(limitation_date("eu", due), date(2026, 9, 30))
        self.assertEqual(
            limitation_date("eu", due, [(date(2023, 1, 10), ACKNOWLEDGEMENT)]), date(2028, 1, 10)
        )
        self.assertEqual(
            limitation_date("eu", due, [(date(2023, 1, 10), WRITTEN_REMINDER)]), date(2026, 9, 30)
        )
        # An unknown code falls back on the default.
        self.assertEqual(limitation_date("us", due), date(2026, 9, 30))

    def test_which_items_may_be_time_barred(self):
        due = date(2022, 3, 15)
        self.assertFalse(may_be_time_barred(due, date(2025, 3, 15)))
        self.assertTrue(may_be_time_barred(due, date(2025, 3, 16)))
        self.assertEqual(last_due_date_time_barred(date(2025, 3, 16)), date(2022, 3, 16))
        # Every day of four years around a 29 February: the cutoff never
        # leaves out an item that may be time-barred.
        day = date(2022, 1, 1)
        while day < date(2026, 1, 1):
            for due in (day - timedelta(days=n) for n in range(1090, 1100)):
                if may_be_time_barred(due, day):
                    self.assertLessEqual(due, last_due_date_time_barred(day))
            day += timedelta(days=1)


@tagged("post_install", "-at_install")
class TestLimitation(DebtRecoveryCommon):
    """The limitation date of journal items, from their real events."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref("base.fr")
        cls.customer.email = "ap@late-payer.example.com"
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]

    def _item(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _due(self, invoice):
        return self._item(invoice).date_maturity

    def test_five_years_in_france_then_time_barred(self):
        invoice = self._invoice(self.customer, 500.0, days_late=2000)
        item = self._item(invoice)
        self.assertEqual(item.debt_limitation_date, self._due(invoice) + relativedelta(years=5))
        self.assertTrue(item.debt_time_barred)
        self.assertEqual(
            item.debt_exclusion_reason,
            f"Time-barred: its limitation date was {item.debt_limitation_date}",
        )
        recent = self._item(self._invoice(self.customer, 500.0, days_late=30))
        self.assertEqual(recent.debt_limitation_date, recent.date_maturity + relativedelta(years=5))
        self.assertFalse(recent.debt_time_barred)
        self.assertFalse(recent.debt_exclusion_reason)

    def test_a_policy_without_late_payment_law_keeps_the_company_limitation(self):
        self.company.country_id = self.env.ref("base.de")
        self.policy.interest_rule = "none"
        item = self._item(self._invoice(self.customer, 500.0, days_late=400))
        self.assertEqual(item.debt_limitation_date, date(item.date_maturity.year + 3, 12, 31))
        self.policy.interest_rule = "uk"
        item.invalidate_recordset()
        self.assertEqual(item.debt_limitation_date, item.date_maturity + relativedelta(years=6))

    def test_a_part_payment_restarts_and_a_credit_note_does_not(self):
        invoice = self._invoice(self.customer, 500.0, days_late=1900)
        item = self._item(invoice)
        self.assertTrue(item.debt_time_barred)
        refund = self._credit_note(self.customer, 50.0)
        refund_item = self._item(refund)
        (item | refund_item).reconcile()
        item.invalidate_recordset()
        self.assertTrue(item.debt_time_barred, "A credit note acknowledges nothing.")
        paid_on = self.today - timedelta(days=400)
        self._pay(invoice, amount=100.0, date=paid_on)
        item.invalidate_recordset()
        self.assertEqual(item.debt_limitation_date, paid_on + relativedelta(years=5))
        self.assertFalse(item.debt_time_barred)

    def test_a_plan_agreed_restarts_germany_without_year_end(self):
        self.company.country_id = self.env.ref("base.de")
        invoice = self._invoice(self.customer, 900.0, days_late=1000)
        item = self._item(invoice)
        self.assertEqual(item.debt_limitation_date, date(self._due(invoice).year + 3, 12, 31))
        case_action = self.customer.with_user(self.user_collector).action_debt_open_plan_wizard()
        wizard = (
            self.env["debt.recovery.plan.wizard"]
            .with_user(self.user_collector)
            .with_context(**case_action["context"])
        )
        wizard = Form(wizard).save()
        plan = self.env["debt.recovery.plan"].browse(wizard.action_create_plan()["res_id"])
        self.assertEqual(plan.state, "active")
        self.assertIn(item, plan.move_line_ids)
        item.invalidate_recordset()
        self.assertEqual(item.debt_limitation_date, self.today + relativedelta(years=3))

    def test_a_promise_restarts_the_united_kingdom_once_signed(self):
        self.company.country_id = self.env.ref("base.uk")
        invoice = self._invoice(self.customer, 900.0, days_late=1000)
        item = self._item(invoice)
        due = self._due(invoice)
        self.assertEqual(item.debt_limitation_date, due + relativedelta(years=6))
        promise = self.env["debt.recovery.promise"].create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": item.ids,
                "amount": 900.0,
                "date_promised": self.today + timedelta(days=10),
            }
        )
        item.invalidate_recordset()
        self.assertEqual(
            item.debt_limitation_date, due + relativedelta(years=6), "Taken by phone: no restart."
        )
        with self.assertRaises(ValidationError):
            promise.date_signed = self.today + timedelta(days=1)
        promise.date_signed = self.today
        item.invalidate_recordset()
        self.assertEqual(item.debt_limitation_date, self.today + relativedelta(years=6))
        # In Germany the promise restarted the period without being signed.
        self.company.country_id = self.env.ref("base.de")
        promise.date_signed = False
        item.invalidate_recordset()
        self.assertEqual(item.debt_limitation_date, self.today + relativedelta(years=3))

    def test_the_customer_policy_of_each_company(self):
        """A customer's policy is per company: its items in each company follow
        the law of that company's own policy for them."""
        other = self.setup_other_company()["company"]
        other.country_id = self.env.ref("base.de")
        uk_policy = self.policy.copy(
            {"name": "British terms", "interest_rule": "uk", "is_default": False}
        )
        self.customer.with_company(self.company).debt_policy_id = uk_policy
        self.assertFalse(self.customer.with_company(other).debt_policy_id)
        here = self._item(self._invoice(self.customer, 500.0, days_late=400))
        there = self._item(self._invoice(self.customer, 500.0, days_late=400, company=other))
        items = (here | there).with_company(other)
        limits = items._debt_limitation()
        self.assertEqual(limits[here.id].rule, "uk")
        self.assertEqual(limits[here.id].date, here.date_maturity + relativedelta(years=6))
        self.assertEqual(limits[there.id].rule, "de")
        self.assertEqual(limits[there.id].date, date(there.date_maturity.year + 3, 12, 31))
        late = items._debt_late_payment(self.today)
        self.assertEqual(late[here.id].rule, "uk")
        self.assertEqual(late[there.id].rule, "de")

    def test_a_letter_sent_restarts_in_the_netherlands_not_in_france(self):
        self.company.country_id = self.env.ref("base.nl")
        # Without a reminder, the claim would end in 20 days.
        due = self.today - relativedelta(years=5) + timedelta(days=20)
        invoice = self._invoice(self.customer, 300.0, days_late=(self.today - due).days)
        item = self._item(invoice)
        self.assertEqual(item.debt_limitation_date, self.today + timedelta(days=20))
        result = self.env["debt.recovery.escalation"]._run(self.company)
        self.assertEqual(result.done, 1)
        comm = self.env["debt.recovery.communication"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.date_sent, self.today)
        item.invalidate_recordset()
        self.assertEqual(item.debt_limitation_date, self.today + relativedelta(years=5))
        self.company.country_id = self.env.ref("base.fr")
        item.invalidate_recordset()
        self.assertEqual(item.debt_limitation_date, self.today + timedelta(days=20))

    def test_a_time_barred_item_gets_no_communication(self):
        barred = self._invoice(self.customer, 500.0, days_late=2000)
        other = self.env["res.partner"].create(
            {"name": "Recent Payer", "is_company": True, "email": "ap@recent.example.com"}
        )
        self._invoice(other, 200.0, days_late=10)
        Escalation = self.env["debt.recovery.escalation"]
        drafts, _left = Escalation._plan(self.today, self.company)
        self.assertEqual([draft.customer for draft in drafts], [other])
        Escalation._run(self.company)
        Communication = self.env["debt.recovery.communication"]
        self.assertFalse(Communication.search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(
            self.env["debt.recovery.communication.line"].search(
                [("move_line_id", "=", self._item(barred).id)]
            )
        )
        self.assertTrue(Communication.search([("partner_id", "=", other.id)]))
        self.assertTrue(self._item(barred).debt_exclusion_reason.startswith("Time-barred"))

    def test_one_read_of_events_for_many_items(self):
        """The limitation dates of many items cost the queries of one."""
        items = self.env["account.move.line"]
        for n in range(12):
            partner = self.env["res.partner"].create({"name": f"Old {n}", "is_company": True})
            invoice = self._invoice(partner, 100.0 + n, days_late=1500 + n)
            self._pay(invoice, amount=10.0, date=self.today - timedelta(days=100 + n))
            items |= self._item(invoice)
        self.env.invalidate_all()
        one = self.env["account.move.line"].browse(items[:1].ids)
        start = self.env.cr.sql_log_count
        one._debt_limitation()
        single = self.env.cr.sql_log_count - start
        self.env.invalidate_all()
        many = self.env["account.move.line"].browse(items.ids)
        start = self.env.cr.sql_log_count
        limitations = many._debt_limitation()
        self.assertLessEqual(self.env.cr.sql_log_count - start, single)
        self.assertEqual(len(limitations), 12)
        for n, item in enumerate(items):
            paid_on = self.today - timedelta(days=100 + n)
            self.assertEqual(limitations[item.id].date, paid_on + relativedelta(years=5))
            self.assertEqual(limitations[item.id].events, ((paid_on, PART_PAYMENT),))

    def test_manager_warned_once_per_case_and_date(self):
        due = self.today - relativedelta(years=5) + timedelta(days=60)
        invoice = self._invoice(self.customer, 700.0, days_late=(self.today - due).days)
        # A recent invoice of the case: far from its date, no warning for it.
        self._invoice(self.customer, 100.0, days_late=30)
        case = self._case_of(self.customer)
        self.assertTrue(case)
        AccountMoveLine = self.env["account.move.line"]
        activity_type = self.env.ref("debt_recovery.mail_activity_type_limitation")

        def warnings():
            return (
                self.env["mail.activity"]
                .with_context(active_test=False)
                .search(
                    [
                        ("res_model", "=", "debt.recovery.case"),
                        ("res_id", "=", case.id),
                        ("activity_type_id", "=", activity_type.id),
                    ]
                )
            )

        self.company.debt_limitation_warning_days = 30
        AccountMoveLine._cron_warn_limitation()
        self.assertFalse(warnings(), "60 days away: not yet within 30 days.")
        self.company.debt_limitation_warning_days = 90
        AccountMoveLine._cron_warn_limitation()
        activity = warnings()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.date_deadline, self.today + timedelta(days=60))
        self.assertIn(invoice.name, activity.note)
        self.assertTrue(
            activity.user_id.has_group("debt_recovery.group_debt_recovery_manager"),
            "Nobody follows the case: a recovery manager is warned.",
        )
        AccountMoveLine._cron_warn_limitation()
        self.assertEqual(len(warnings()), 1, "Never twice for the same case and date.")
        activity.action_done()
        AccountMoveLine._cron_warn_limitation()
        self.assertEqual(len(warnings()), 1, "Not again once done.")
        # The collector follows the case: a new date (an acknowledgement
        # moved it) warns them, when it comes near.
        case.user_id = self.user_collector
        self.company.debt_limitation_warning_days = 10000
        self._pay(invoice, amount=100.0, date=self.today - timedelta(days=5))
        AccountMoveLine._cron_warn_limitation()
        new = warnings().filtered("active")
        # The earliest date of the case: the recent invoice's, before the
        # restarted one (5 years from the payment 5 days ago).
        self.assertEqual(
            new.date_deadline, self.today - timedelta(days=30) + relativedelta(years=5)
        )
        self.assertEqual(new.user_id, self.user_collector)

    def test_negative_warning_days_refused(self):
        with self.assertRaises(ValidationError):
            self.company.debt_limitation_warning_days = -1
        self.assertEqual(self.company.debt_limitation_warning_days, 90)

    def test_search_by_limitation_date_and_the_case_filter(self):
        AccountMoveLine = self.env["account.move.line"]
        soon = self._item(
            self._invoice(
                self.customer,
                100.0,
                days_late=(self.today - (self.today - relativedelta(years=5))).days - 40,
            )
        )
        barred = self._item(self._invoice(self.customer, 100.0, days_late=2000))
        recent = self._item(self._invoice(self.customer, 100.0, days_late=10))
        paid_invoice = self._invoice(self.customer, 100.0, days_late=1000)
        self._pay(paid_invoice)
        paid = self._item(paid_invoice)
        self.assertFalse(paid.debt_limitation_date, "Nothing owed: nothing to be barred.")
        mine = soon | barred | recent | paid
        today = self.today
        in_90 = today + timedelta(days=90)
        expected = {
            ("<", today): barred,
            ("<=", in_90): soon | barred,
            (">", in_90): recent,
            (">=", today): soon | recent,
            ("=", soon.debt_limitation_date): soon,
            ("!=", soon.debt_limitation_date): barred | recent | paid,
            ("=", False): paid,
            ("!=", False): soon | barred | recent,
        }
        for (operator, value), lines in expected.items():
            found = AccountMoveLine.search(
                [("id", "in", mine.ids), ("debt_limitation_date", operator, value)]
            )
            self.assertEqual(found, lines, f"{operator} {value}")
            # As the computed values say.
            self.assertEqual(
                mine.filtered_domain([("debt_limitation_date", operator, value)]), lines
            )
        case = self._case_of(self.customer)
        other = self.env["res.partner"].create({"name": "Young Debt", "is_company": True})
        self._invoice(other, 100.0, days_late=10)
        view = self.env.ref("debt_recovery.debt_recovery_case_view_search")
        self.assertIn('name="limitation_90"', view.arch)
        domain = [
            (
                "move_line_ids",
                "any",
                [("debt_limitation_date", ">=", today), ("debt_limitation_date", "<=", in_90)],
            )
        ]
        self.assertEqual(self.Case.search(domain), case)
        soon.move_id.button_draft()
        self.assertFalse(self.Case.search(domain))
        with self.assertRaises(UserError):
            AccountMoveLine.search([("debt_limitation_date", "like", "2020")])

    def test_queued_communication_of_an_item_time_barred_since_is_cancelled(self):
        """A communication queued the day before an item's limitation date
        does not claim it the day after: nothing is sent, the reason says
        why."""
        due = self.today + relativedelta(days=1, years=-5)
        invoice = self._invoice(self.customer, 500.0, days_late=(self.today - due).days)
        self.assertFalse(self._item(invoice).debt_time_barred)
        Communication = self.env["debt.recovery.communication"]
        Communication._run_escalation(self.company, send=False)
        comm = Communication.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(comm.state, "queued")
        with freeze_time(self.today + relativedelta(days=2)):
            comm.invalidate_recordset()
            self._item(invoice).invalidate_recordset()
            comm._send()
        self.assertEqual(comm.state, "cancelled")
        self.assertIn("time-barred", comm.cancel_reason)
        self.assertFalse(comm.mail_message_id)
