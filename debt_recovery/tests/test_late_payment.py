from datetime import date

from odoo.tests import BaseCase

from ..tools.late_payment import BOE, DE_BASE, ECB, RULES, RateTable, accrue, compensation

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
