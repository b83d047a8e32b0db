from datetime import date, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from ..tools.late_payment import BOE, DE_BASE, ECB, RULES, RateTable, accrue, compensation
from .common import DebtRecoveryCommon

# The published values around the tables below (percent a year).
TABLE = RateTable(
    {
        ECB: [
            (date(2022, 12, 21), 2.50),
            (date(2023, 6, 21), 4.00),
            (date(2023, 9, 20), 4.50),
            (date(2024, 6, 12), 4.25),
        ],
        DE_BASE: [(date(2023, 7, 1), 3.12), (date(2024, 1, 1), 3.62), (date(2024, 7, 1), 3.37)],
        BOE: [
            (date(2023, 8, 3), 5.25),
            (date(2024, 8, 1), 5.00),
            (date(2024, 11, 7), 4.75),
            (date(2025, 2, 6), 4.50),
        ],
    }
)


class TestLatePayment(BaseCase):
    """Interest and compensation against tables computed by hand:
    amount x rate x days / 365, period by period."""

    def assertInterest(self, accrual, expected):
        self.assertAlmostEqual(round(accrual.interest, 2), expected, places=2)

    def test_france_across_a_change_of_half_year(self):
        # 10,000 due 31 May 2023: 30 days of June at the rate of 1 January
        # (2.50 + 10) = 102.7397, 10 days of July at the rate of 1 July
        # (4.00 + 10) = 38.3562.
        accrual = accrue(RULES["fr"], TABLE, 10000, date(2023, 5, 31), [], date(2023, 7, 10))
        self.assertInterest(accrual, 141.10)
        self.assertEqual(accrual.date_from, date(2023, 6, 1))
        self.assertEqual(accrual.date_to, date(2023, 7, 10))
        self.assertEqual(accrual.rates, ((date(2023, 6, 1), 12.5), (date(2023, 7, 1), 14.0)))

    def test_partial_payment_stops_interest_on_what_it_paid(self):
        # 1,000 due 31 January 2024, 400 paid on 10 February: 10 days on
        # 1,000 (3.4247), 19 days on 600 (3.9041), at 4.50 + 8.
        payments = [(date(2024, 2, 10), 400)]
        for code in ("eu", "es"):
            accrual = accrue(
                RULES[code], TABLE, 1000, date(2024, 1, 31), payments, date(2024, 2, 29)
            )
            self.assertInterest(accrual, 7.33)

    def test_invoice_paid_late_in_full(self):
        # Paid on 1 March 2024: 30 days (1 February to 1 March) on 1,000 at
        # 12.5 %; nothing after, the interest stays due.
        payments = [(date(2024, 3, 1), 1000)]
        accrual = accrue(RULES["eu"], TABLE, 1000, date(2024, 1, 31), payments, date(2024, 6, 1))
        self.assertInterest(accrual, 10.27)
        self.assertEqual(accrual.date_to, date(2024, 3, 1))

    def test_paid_on_time_and_not_yet_due(self):
        paid = [(date(2024, 1, 31), 1000)]
        self.assertEqual(
            accrue(RULES["eu"], TABLE, 1000, date(2024, 1, 31), paid, date(2024, 6, 1)).interest, 0
        )
        not_due = accrue(RULES["fr"], TABLE, 1000, date(2024, 6, 1), [], date(2024, 6, 1))
        self.assertEqual(not_due.interest, 0)
        self.assertIsNone(not_due.date_from)

    def test_germany_business_and_consumer(self):
        # 5,000 due 29 February 2024, 30 days of March at the base rate of
        # 1 January 2024 (3.62): + 9 points 51.8630, + 5 points 35.4247.
        rule = RULES["de"]
        business = accrue(rule, TABLE, 5000, date(2024, 2, 29), [], date(2024, 3, 30))
        consumer = accrue(rule, TABLE, 5000, date(2024, 2, 29), [], date(2024, 3, 30), True)
        self.assertInterest(business, 51.86)
        self.assertInterest(consumer, 35.42)
        self.assertEqual(compensation(rule, 5000), 40)
        self.assertEqual(compensation(rule, 5000, consumer=True), 0)

    def test_united_kingdom_rate_fixed_for_the_debt(self):
        # Interest from 30 June 2024 (first half-year): Bank Rate of 31
        # December 2023 (5.25) + 8 for the whole debt, despite the cuts of
        # August and November: 2,000 x 13.25 % x 185 / 365 = 134.3151.
        rule = RULES["uk"]
        accrual = accrue(rule, TABLE, 2000, date(2024, 6, 29), [], date(2024, 12, 31))
        self.assertInterest(accrual, 134.32)
        self.assertEqual(accrual.rates, ((date(2024, 6, 30), 13.25),))
        # From 15 January 2025: the rate of 31 December 2024 (4.75), kept
        # after the February cut: 1,000 x 12.75 % x 45 / 365 = 15.7192.
        later = accrue(rule, TABLE, 1000, date(2025, 1, 14), [], date(2025, 2, 28))
        self.assertInterest(later, 15.72)

    def test_united_kingdom_fixed_sums_at_their_edges(self):
        rule = RULES["uk"]
        self.assertEqual(rule.compensation_currency, "GBP")
        for amount, fixed in ((999.99, 40), (1000, 70), (9999.99, 70), (10000, 100)):
            self.assertEqual(compensation(rule, amount), fixed, amount)

    def test_netherlands_compounded_yearly(self):
        # 1,000 due 31 December 2022. Year 1: 181 days at 10.5 % (52.0685)
        # and 184 days at 12 % (60.4932) = 112.5617, added to the principal
        # on 1 January 2024; then 31 days at 12.5 % on 1,112.5617 (11.8114).
        accrual = accrue(RULES["nl"], TABLE, 1000, date(2022, 12, 31), [], date(2024, 1, 31))
        self.assertInterest(accrual, 124.37)
        simple = accrue(RULES["eu"], TABLE, 1000, date(2022, 12, 31), [], date(2024, 1, 31))
        self.assertInterest(simple, 123.18)

    def test_netherlands_consumer_costs_scale(self):
        rule = RULES["nl"]
        self.assertEqual(compensation(rule, 2000), 40)
        for amount, costs in ((100, 40), (2000, 300), (6000, 675), (1_000_000, 6775)):
            self.assertAlmostEqual(compensation(rule, amount, consumer=True), costs, 2)

    def test_contract_rate_replaces_the_statutory_one(self):
        accrual = accrue(
            RULES["fr"], TABLE, 3650, date(2024, 1, 31), [], date(2024, 2, 9), contract_rate=5.0
        )
        # 3,650 x 5 % x 9 / 365.
        self.assertInterest(accrual, 4.50)

    def test_no_rate_known_no_interest(self):
        empty = RateTable({})
        self.assertEqual(
            accrue(RULES["fr"], empty, 1000, date(2024, 1, 1), [], date(2024, 3, 1)).interest, 0
        )


class FrenchLawCommon(DebtRecoveryCommon):
    """A French company, and one ECB rate (2 %) for the whole period: French
    late-payment interest is 12 % a year throughout."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref("base.fr")
        Rate = cls.env["debt.recovery.reference.rate"]
        Rate.search([]).unlink()
        cls.ecb = cls.env.ref("debt_recovery.rate_kind_ecb_mro")
        Rate.create(
            {"kind_id": cls.ecb.id, "date_from": cls.today - timedelta(days=1000), "rate": 2.0}
        )


@tagged("post_install", "-at_install")
class TestLatePaymentItems(FrenchLawCommon):
    """The journal items' interest and compensation, from their payments
    and the reference rates on record."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True

    def _item(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def test_interest_and_compensation_of_an_item(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40, currency=self.eur)
        item = self._item(invoice)
        # 1,000 x 12 % x 40 / 365 = 13.1507.
        self.assertAlmostEqual(item.debt_interest_accrued, 13.15)
        self.assertEqual(item.debt_compensation_due, 40.0)
        self.assertEqual(item.currency_id, self.eur)

    def test_partial_payment_then_paid_late_in_full(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40, currency=self.eur)
        item = self._item(invoice)
        self._pay(invoice, amount=400.0, date=self.today - timedelta(days=20))
        item.invalidate_recordset()
        # 20 days on 1,000 (6.5753), then 20 days on 600 (3.9452).
        self.assertAlmostEqual(item.debt_interest_accrued, 10.52)
        self._pay(invoice, date=self.today - timedelta(days=10))
        item.invalidate_recordset()
        self.assertTrue(item.reconciled)
        # Paid in full 10 days ago: 20 days on 1,000, 10 days on 600 (1.9726).
        self.assertAlmostEqual(item.debt_interest_accrued, 8.55)
        self.assertEqual(item.debt_compensation_due, 40.0, "Still due after a late payment.")

    def test_nothing_before_the_due_date_or_without_a_law(self):
        not_due = self._item(self._invoice(self.customer, 1000.0, days_late=-5))
        due_today = self._item(self._invoice(self.customer, 1000.0, days_late=0))
        for item in not_due | due_today:
            self.assertEqual(item.debt_interest_accrued, 0.0)
            self.assertEqual(item.debt_compensation_due, 0.0)
        late = self._item(self._invoice(self.customer, 1000.0, days_late=40))
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        policy.interest_rule = "none"
        late.invalidate_recordset()
        self.assertEqual(late.debt_interest_accrued, 0.0)
        self.assertEqual(late.debt_compensation_due, 0.0)

    def test_german_consumer_gets_no_fixed_compensation(self):
        self.company.country_id = self.env.ref("base.de")
        Rate = self.env["debt.recovery.reference.rate"]
        Rate.create(
            {
                "kind_id": self.env.ref("debt_recovery.rate_kind_de_base").id,
                "date_from": self.today - timedelta(days=1000),
                "rate": 1.0,
            }
        )
        person = self.env["res.partner"].create({"name": "Erika Mustermann"})
        business = self._item(self._invoice(self.customer, 3650.0, days_late=10, currency=self.eur))
        consumer = self._item(self._invoice(person, 3650.0, days_late=10, currency=self.eur))
        # 3,650 x 10 % (1 + 9) x 10 / 365; consumer 1 + 5 points.
        self.assertAlmostEqual(business.debt_interest_accrued, 10.0)
        self.assertAlmostEqual(consumer.debt_interest_accrued, 6.0)
        self.assertEqual(business.debt_compensation_due, 40.0)
        self.assertEqual(consumer.debt_compensation_due, 0.0)

    def test_one_pass_over_the_items(self):
        """The figures of many items cost the queries of one."""
        items = self.env["account.move.line"]
        for n in range(12):
            partner = self.env["res.partner"].create({"name": f"Late {n}", "is_company": True})
            items |= self._item(self._invoice(partner, 100.0 + n, days_late=30 + n))
        self.env.invalidate_all()
        one = self.env["account.move.line"].browse(items[:1].ids)
        start = self.env.cr.sql_log_count
        one._debt_late_payment(self.today)
        single = self.env.cr.sql_log_count - start
        self.env.invalidate_all()
        many = self.env["account.move.line"].browse(items.ids)
        start = self.env.cr.sql_log_count
        figures = many._debt_late_payment(self.today)
        self.assertEqual(len(figures), 12)
        self.assertLessEqual(self.env.cr.sql_log_count - start, single)

    def test_communications_carry_what_their_letters_state(self):
        """A formal notice keeps the interest and compensation it states, from
        its creation and again as it leaves; a reminder states none."""
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        policy.escalation_mode = "age"
        self.customer.email = "ap@late-payer.example.com"
        reminded = self.env["res.partner"].create(
            {"name": "Early Late", "is_company": True, "email": "ap@early.example.com"}
        )
        self._invoice(self.customer, 1000.0, days_late=40)
        self._invoice(reminded, 1000.0, days_late=10)
        Escalation = self.env["debt.recovery.escalation"]
        Escalation._run(self.company, send=False)
        Comm = self.env["debt.recovery.communication"]
        notice = Comm.search([("partner_id", "=", self.customer.id)])
        reminder = Comm.search([("partner_id", "=", reminded.id)])
        self.assertTrue(notice.level_id.legal_notice)
        # 1,000 x 12 % x 40 / 365 = 13.15, and the EUR 40.
        self.assertAlmostEqual(notice.amount_interest, 13.15)
        self.assertEqual(notice.amount_compensation, 40.0)
        self.assertFalse(reminder.level_id.legal_notice)
        self.assertEqual(reminder.amount_interest, 0.0)
        self.assertEqual(reminder.amount_compensation, 0.0)
        # Checked as it leaves two days later: two more days of interest (0.66).
        with freeze_time(self.today + timedelta(days=2)):
            self.assertEqual(notice._recheck_claims(), notice)
        self.assertAlmostEqual(notice.amount_interest, 13.81)
        self.assertEqual(notice.amount_compensation, 40.0)

    def test_reference_rates_refused(self):
        Rate = self.env["debt.recovery.reference.rate"]
        day = self.today - timedelta(days=1000)
        other_day = day + timedelta(days=1)
        with self.assertRaises(ValidationError):
            Rate.create({"kind_id": self.ecb.id, "date_from": other_day, "rate": 150.0})
        with self.assertRaises(ValidationError):
            Rate.create({"kind_id": self.ecb.id, "date_from": other_day, "rate": float("inf")})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            Rate.create({"kind_id": self.ecb.id, "date_from": day, "rate": 3.0})
        self.assertEqual(Rate.search_count([("kind", "=", "ecb_mro")]), 1)


@tagged("post_install", "-at_install")
class TestLatePaymentCharges(FrenchLawCommon):
    """Charging a case's interest and costs: posted once, never twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._invoice(cls.customer, 1000.0, days_late=40)
        cls.item = cls.invoice.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        cls.case = cls.env["debt.recovery.case"].search(
            [("partner_id", "=", cls.customer.id), ("company_id", "=", cls.company.id)]
        )
        cls.manager = cls.user_manager

    def _waive(self, reason, charge=None):
        wizard = (
            self.env["debt.recovery.charge.waive"]
            .with_user(self.manager)
            .create({"case_id": self.case.id, "reason": reason, "charge_id": charge and charge.id})
        )
        return wizard.action_confirm()

    def test_charged_once_then_only_what_accrued_since(self):
        self.assertTrue(self.case)
        action = self.case.action_charge_late_payment()
        charge = self.case.charge_ids
        self.assertEqual(charge.state, "posted")
        invoice = charge.move_id
        self.assertEqual(action["res_id"], invoice.id)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.partner_id, self.customer)
        # 1,000 x 12 % x 40 / 365 = 13.15, and EUR 40 (same as USD without rates).
        self.assertEqual(sorted(invoice.invoice_line_ids.mapped("price_unit")), [13.15, 40.0])
        self.assertFalse(invoice.invoice_line_ids.tax_ids, "Outside the scope of VAT.")
        self.assertIn(self.invoice.name, invoice.invoice_line_ids[0].name)
        self.assertEqual(sum(invoice.line_ids.mapped("balance")), 0.0)
        self.item.invalidate_recordset()
        self.assertEqual(self.item.debt_interest_accrued, 0.0)
        self.assertEqual(self.item.debt_compensation_due, 0.0)
        with self.assertRaisesRegex(UserError, "nothing to charge"):
            self.case.action_charge_late_payment()
        # Ten days later: ten days of interest, no second compensation, none
        # on the charge's own invoice (overdue by then).
        with freeze_time(self.today + timedelta(days=10)):
            self.item.invalidate_recordset()
            self.assertAlmostEqual(self.item.debt_interest_accrued, 3.29)
            self.case.action_charge_late_payment()
            later = self.case.charge_ids - charge
            self.assertEqual(later.move_id.invoice_line_ids.mapped("price_unit"), [3.29])
            self.assertEqual(later.line_ids.date_from, self.today + timedelta(days=1))
        self.assertIn("Interest and costs charged", self.case.message_ids[0].body)

    def test_waived_with_a_reason_then_never_charged(self):
        with self.assertRaises(UserError):
            self._waive("  ")
        self.assertFalse(self.case.charge_ids, "Nothing recorded without a reason.")
        with self.assertRaises(UserError):
            self.env["debt.recovery.charge.waive"].create(
                {"case_id": self.case.id, "reason": "Goodwill"}
            ).with_user(self.user_collector).action_confirm()
        self._waive("Goodwill: first delay in ten years")
        waiver = self.case.charge_ids
        self.assertEqual(waiver.state, "waived")
        self.assertFalse(waiver.move_id)
        self.assertEqual(waiver.user_id, self.manager)
        self.assertIn("Goodwill", self.case.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "nothing to charge"):
            self.case.action_charge_late_payment()

    def test_reversed_by_a_credit_note(self):
        self.case.action_charge_late_payment()
        charge = self.case.charge_ids
        self._waive("Charged by mistake", charge=charge)
        self.assertEqual(charge.state, "reversed")
        refund = charge.reversal_move_id
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.state, "posted")
        self.assertEqual(refund.amount_total, charge.move_id.amount_total)
        self.assertEqual(charge.move_id.payment_state, "reversed")
        self.item.invalidate_recordset()
        self.assertEqual(self.item.debt_interest_accrued, 0.0, "Not charged again.")

    def test_lock_date_refuses_and_creates_nothing(self):
        self.company.fiscalyear_lock_date = self.today
        moves = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "locked"):
            self.case.action_charge_late_payment()
        self.assertFalse(self.case.charge_ids)
        self.assertEqual(self.env["account.move"].search_count([]), moves)

    def test_contract_rate_of_the_customer(self):
        self.customer.debt_contract_rate = 5.0
        self.item.invalidate_recordset()
        # 1,000 x 5 % x 40 / 365.
        self.assertAlmostEqual(self.item.debt_interest_accrued, 5.48)
        for bad in (-1.0, 101.0, float("nan")):
            with self.assertRaises(ValidationError):
                self.customer.write({"debt_contract_rate": bad})
        self.assertEqual(self.customer.debt_contract_rate, 5.0)

    def test_case_sums_what_is_owed(self):
        self.assertAlmostEqual(self.case.amount_interest, 13.15)
        self.assertEqual(self.case.amount_compensation, 40.0)
        self.case.action_charge_late_payment()
        self.case.invalidate_recordset()
        self.assertEqual(self.case.amount_interest, 0.0)
        self.assertEqual(self.case.amount_compensation, 0.0)

    def test_customer_shows_what_is_owed(self):
        customer = self.customer.with_company(self.company)
        self.assertAlmostEqual(customer.debt_interest_accrued, 13.15)
        self.assertEqual(customer.debt_compensation_due, 40.0)

    def test_level_charges_as_it_leaves(self):
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        policy.escalation_mode = "age"
        notice = policy.level_ids.filtered(lambda level: level.days == 35)
        notice.charge_late_payment = True
        self.customer.email = "ap@late-payer.example.com"
        self.env["debt.recovery.communication"]._run_escalation(self.company)
        comm = self.env["debt.recovery.communication"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(comm.level_id, notice)
        self.assertEqual(comm.state, "sent")
        self.assertEqual(self.case.charge_ids.state, "posted")
        self.assertAlmostEqual(self.case.charge_ids.amount_total, 53.15)

    def test_level_charge_refused_is_noted_and_the_letter_leaves(self):
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        policy.escalation_mode = "age"
        policy.level_ids.filtered(lambda level: level.days == 35).charge_late_payment = True
        self.customer.email = "ap@late-payer.example.com"
        self.company.fiscalyear_lock_date = self.today
        self.env["debt.recovery.communication"]._run_escalation(self.company)
        comm = self.env["debt.recovery.communication"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(comm.state, "sent")
        self.assertFalse(self.case.charge_ids)
        self.assertTrue(
            any("not charged" in message.body for message in self.case.message_ids),
            self.case.message_ids.mapped("body"),
        )

    def test_level_fee_fixed_or_percentage_within_bounds(self):
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        level = policy.level_ids.filtered(lambda lv: lv.days == 35)
        level.write({"fee_amount": 0.0, "fee_percent": 5.0, "fee_min": 10.0, "fee_max": 100.0})
        self.assertEqual(level._fee_for(1000.0), 50.0)
        self.assertEqual(level._fee_for(100.0), 10.0, "The minimum.")
        self.assertEqual(level._fee_for(10000.0), 100.0, "The maximum.")
        level.write({"fee_amount": 15.0, "fee_max": 0.0})
        self.assertEqual(level._fee_for(10000.0), 515.0, "Fixed fee plus an unbounded share.")
        for bad in ({"fee_percent": 101.0}, {"fee_min": -1.0}, {"fee_max": 5.0, "fee_min": 10.0}):
            with self.assertRaises(ValidationError):
                level.write(bad)
        # Sent at that level, charged with the rest, once.
        policy.escalation_mode = "age"
        self.customer.email = "ap@late-payer.example.com"
        level.write({"fee_amount": 0.0, "fee_max": 0.0, "fee_min": 0.0, "fee_percent": 2.0})
        self.env["debt.recovery.communication"]._run_escalation(self.company)
        self.case.action_charge_late_payment()
        fee = self.case.charge_ids.line_ids.filtered(lambda line: line.kind == "fee")
        self.assertEqual(fee.amount, 20.0, "2 % of the 1,000 claimed.")
        self.assertIn(level.name, fee.charge_id.move_id.invoice_line_ids[-1].name)

    def test_reverse_from_the_charge(self):
        self.case.action_charge_late_payment()
        charge = self.case.charge_ids
        action = charge.action_open_reverse()
        wizard = (
            self.env["debt.recovery.charge.waive"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .create({"reason": "Agreed with the customer"})
        )
        self.assertEqual(wizard.charge_id, charge)
        wizard.action_confirm()
        self.assertEqual(charge.state, "reversed")


@tagged("post_install", "-at_install")
class TestOurTerms(FrenchLawCommon):
    """A policy that charges its own terms: a reference rate kind the
    manager added, a margin and a fixed compensation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.snb = cls.env["debt.recovery.reference.rate.kind"].create(
            {"name": "SNB Policy Rate", "code": "snb_policy"}
        )
        cls.env["debt.recovery.reference.rate"].create(
            {"kind_id": cls.snb.id, "date_from": cls.today - timedelta(days=1000), "rate": 1.0}
        )
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        cls.policy.write(
            {
                "interest_rule": "contract",
                "interest_rate_kind_id": cls.snb.id,
                "interest_margin": 7.0,
                "interest_compensation": 25.0,
                "interest_terms": "Under article 7 of our general terms of sale,",
            }
        )

    def test_interest_at_our_reference_rate_plus_margin(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        item = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        # 1,000 x (1 + 7) % x 40 / 365 = 8.7671; our own compensation.
        self.assertAlmostEqual(item.debt_interest_accrued, 8.77)
        self.assertEqual(item.debt_compensation_due, 25.0)
        figure = item._debt_late_payment(self.today)[item.id]
        self.assertEqual(figure.rule, "contract")
        self.assertEqual(figure.accrual.rates[0][1], 8.0)
        # The limitation period stays the company's country's (France: 5 years).
        self.assertEqual(
            item.debt_limitation_date, item.date_maturity.replace(year=item.date_maturity.year + 5)
        )

    def test_charged_on_our_terms(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        case.action_charge_late_payment()
        self.assertEqual(
            sorted(case.charge_ids.move_id.invoice_line_ids.mapped("price_unit")), [8.77, 25.0]
        )
        self.assertIn(invoice.name, case.charge_ids.move_id.invoice_line_ids[0].name)

    def test_letters_state_our_terms_in_whole_sentences(self):
        self.policy.escalation_mode = "age"
        self._invoice(self.customer, 1000.0, days_late=40)
        self.env["debt.recovery.escalation"]._run(self.company, send=False)
        notice = self.env["debt.recovery.communication"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertTrue(notice.level_id.legal_notice)
        terms = notice._late_payment_terms()
        self.assertEqual(terms["basis"], "Under article 7 of our general terms of sale,")
        self.assertEqual(terms["formula"], "SNB Policy Rate + 7.00 points a year")
        self.assertIn("25.00", terms["compensation"])
        self.policy.interest_terms = False
        self.assertEqual(
            notice._late_payment_terms()["basis"],
            "Under our terms of sale, late-payment interest is due from the day after the due "
            "date at SNB Policy Rate plus 7.00 percentage points a year, together with a fixed "
            f"compensation for recovery costs of {terms['compensation'].split(' per ')[0]} "
            "per invoice.",
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("debt_recovery.action_report_recovery_letter", notice.ids)[0]
            .decode()
        )
        self.assertIn("SNB Policy Rate plus 7.00 percentage points a year", html)

    def test_bad_terms_refused(self):
        for vals in (
            {"interest_margin": -1.0},
            {"interest_margin": 500.0},
            {"interest_compensation": -5.0},
            {"interest_rate_kind_id": False},
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                self.policy.write(vals)
        self.assertEqual(self.policy.interest_margin, 7.0)
        self.assertEqual(self.policy.interest_rate_kind_id, self.snb)

    def test_statutory_kinds_kept(self):
        ecb = self.env.ref("debt_recovery.rate_kind_ecb_mro")
        with self.assertRaises(UserError):
            ecb.unlink()
        with self.assertRaises(UserError):
            ecb.code = "ecb"
        self.assertEqual(ecb.code, "ecb_mro")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["debt.recovery.reference.rate.kind"].create(
                {"name": "Another", "code": "snb_policy"}
            )
        # A kind of our own with rates on record stays (archived instead);
        # without any, it goes.
        with self.assertRaises(UserError):
            self.snb.unlink()
        self.assertTrue(self.snb.exists())
        self.snb.rate_ids.unlink()
        self.snb.unlink()
        self.assertFalse(self.snb.exists())


@tagged("post_install", "-at_install")
class TestCostsFirst(FrenchLawCommon):
    """§ 367 BGB on a policy: a payment settles the interest and cost
    invoices first, then the principal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        cls.invoice = cls._invoice(cls.customer, 1000.0, days_late=40)
        cls.case = cls.env["debt.recovery.case"].search(
            [("partner_id", "=", cls.customer.id), ("company_id", "=", cls.company.id)]
        )
        cls.case.action_charge_late_payment()
        # 13.15 of interest and 40 of compensation.
        cls.charge_invoice = cls.case.charge_ids.move_id

    def test_charge_invoice(self):
        self.assertEqual(self.charge_invoice.amount_total, 53.15)

    def test_payment_settles_costs_then_principal(self):
        self.policy.allocate_costs_first = True
        self._pay(self.invoice, amount=500.0)
        self.assertEqual(self.charge_invoice.payment_state, "paid")
        self.assertAlmostEqual(self.invoice.amount_residual, 553.15)
        charge = self.case.charge_ids
        self.assertEqual(charge.amount_paid_costs, 40.0)
        self.assertEqual(charge.amount_paid_interest, 13.15)

    def test_small_payment_settles_costs_before_interest(self):
        self.policy.allocate_costs_first = True
        self._pay(self.invoice, amount=45.0)
        self.assertAlmostEqual(self.charge_invoice.amount_residual, 8.15)
        self.assertEqual(self.invoice.amount_residual, 1000.0)
        charge = self.case.charge_ids
        self.assertEqual(charge.amount_paid_costs, 40.0)
        self.assertEqual(charge.amount_paid_interest, 5.0)

    def test_without_the_option_the_payment_goes_where_matched(self):
        self._pay(self.invoice, amount=500.0)
        self.assertEqual(self.charge_invoice.amount_residual, 53.15)
        self.assertEqual(self.invoice.amount_residual, 500.0)

    def test_a_credit_note_is_no_payment(self):
        self.policy.allocate_costs_first = True
        refund = self._credit_note(self.customer, 100.0)
        (refund + self.invoice).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).reconcile()
        self.assertEqual(self.charge_invoice.amount_residual, 53.15)
        self.assertEqual(self.invoice.amount_residual, 900.0)
