from datetime import timedelta

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestAccountMove(DebtRecoveryCommon):
    def test_invoice_stage_and_days_overdue(self):
        late = self._invoice(self.customer, 100.0, days_late=40)
        recent = self._invoice(self.customer, 100.0, days_late=3)
        future = self._invoice(self.customer, 100.0, days_late=-3)
        draft = self._invoice(self.customer, 100.0, days_late=50, post=False)
        case = self._case_of(self.customer)
        case.stage_id = self.stage_reminder

        self.assertEqual(late.debt_days_overdue, 40)
        self.assertEqual(recent.debt_days_overdue, 3)
        self.assertEqual(future.debt_days_overdue, 0)
        self.assertEqual(draft.debt_days_overdue, 0)
        self.assertEqual(late.debt_stage_id, self.stage_reminder)
        self.assertEqual(late.debt_case_id, case)
        self.assertFalse(draft.debt_stage_id)

        moves = late | recent | future | draft
        Move = self.env["account.move"]

        def found(domain):
            return Move.search([("id", "in", moves.ids), *domain])

        self.assertEqual(found([("debt_days_overdue", ">", 30)]), late)
        self.assertEqual(found([("debt_days_overdue", ">=", 3)]), late | recent)
        self.assertEqual(found([("debt_days_overdue", "=", 40)]), late)
        self.assertEqual(found([("debt_days_overdue", "=", 0)]), future | draft)
        self.assertEqual(found([("debt_days_overdue", "<", 10)]), recent | future | draft)
        self.assertEqual(found([("debt_days_overdue", "!=", 0)]), late | recent)
        self.assertEqual(
            found([("debt_stage_id", "=", self.stage_reminder.id)]), late | recent | future
        )

        self._pay(late)
        self.assertEqual(late.debt_days_overdue, 0)
        self.assertFalse(late.debt_stage_id, "A paid invoice is out of recovery.")
        self.assertEqual(found([("debt_days_overdue", ">", 30)]), Move)

    def test_instalments_count_from_the_oldest_unpaid_due_date(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "Half now, half in 60 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 60}),
                ],
            }
        )
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": self.today - timedelta(days=20),
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Kit", "quantity": 1, "price_unit": 1000.0, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        self.assertEqual(invoice.debt_days_overdue, 20)
        case = self._case_of(self.customer)
        self.assertAlmostEqual(case.amount_overdue, 500.0, msg="Only the first instalment is late.")
        self.assertAlmostEqual(case.amount_due, 1000.0)

        self._pay(invoice, amount=500.0)
        self.assertEqual(invoice.debt_days_overdue, 0)
        self.assertTrue(case.is_closed, "Nothing is overdue once the first instalment is paid.")

    def _assert_searches_like_an_integer_field(self, records, fname):
        """Search ``fname`` of ``records`` with every operator and value an
        integer field takes, and compare with what Odoo answers on a stored
        integer field (partners' ``color``) holding the same numbers."""
        Partner = self.env["res.partner"]
        twins = Partner.create(
            [{"name": f"Twin {record.id}", "color": record[fname]} for record in records]
        )
        twin_of = dict(zip(twins, records, strict=True))
        values = [0, 3, 40, 41, -1, 2.7, -2.7, 10**12, -(10**12), 1e300, "3", False, True]
        cases = [(op, val) for op in ("=", "!=", "<", "<=", ">", ">=") for val in values]
        cases += [
            ("in", [3, 40]),
            ("in", [0, 40]),
            ("in", [False, 3]),
            ("in", [10**12]),
            ("in", []),
            ("not in", [3, 40]),
            ("not in", [False]),
            ("not in", []),
            ("=?", False),
            ("=?", 40),
        ]
        for operator, value in cases:
            with self.subTest(operator=operator, value=value):
                expected = records.browse(
                    twin_of[twin].id
                    for twin in Partner.search(
                        [("id", "in", twins.ids), ("color", operator, value)]
                    )
                )
                found = records.search([("id", "in", records.ids), (fname, operator, value)])
                self.assertEqual(found, expected)
        for value in (float("inf"), float("-inf")):
            self.assertEqual(
                records.search([("id", "in", records.ids), (fname, "<", value)]),
                records if value > 0 else records.browse(),
            )
        for operator, value in (("=", float("nan")), (">", "abc"), ("ilike", "4"), ("<", [3])):
            with self.subTest(operator=operator, value=value), self.assertRaises(UserError):
                records.search([(fname, operator, value)])

    def test_days_overdue_searches_like_an_integer_field(self):
        moves = (
            self._invoice(self.customer, 100.0, days_late=40)
            | self._invoice(self.customer_contact, 100.0, days_late=3)
            | self._invoice(self.customer, 100.0, days_late=-3)
            | self._invoice(self.customer, 100.0, days_late=50, post=False)
        )
        self.assertEqual(sorted(moves.mapped("debt_days_overdue")), [0, 0, 3, 40])
        self._assert_searches_like_an_integer_field(moves, "debt_days_overdue")

    def test_case_oldest_days_overdue_searches_like_an_integer_field(self):
        Partner = self.env["res.partner"]
        customers = Partner.create(
            [{"name": f"Customer {days}", "is_company": True} for days in (40, 3, -3)]
        )
        for customer, days in zip(customers, (40, 3, -3), strict=True):
            self._invoice(customer, 100.0, days_late=days)
        cases = self.Case.search([("partner_id", "in", customers.ids)])
        # A case opened by hand, with nothing overdue: no due date at all.
        cases |= self.Case.create({"partner_id": Partner.create({"name": "Nothing Due"}).id})
        self.assertIn(0, cases.mapped("oldest_overdue_days"))
        self.assertIn(40, cases.mapped("oldest_overdue_days"))
        self._assert_searches_like_an_integer_field(cases, "oldest_overdue_days")

    def test_customer_recovery_stage_searches_like_a_many2one(self):
        Partner = self.env["res.partner"]
        late = Partner.create({"name": "In Reminder", "is_company": True})
        current = Partner.create({"name": "Current", "is_company": True})
        none = Partner.create({"name": "No Case", "is_company": True})
        self._invoice(late, 100.0, days_late=20)
        self._invoice(current, 100.0, days_late=2)
        self._case_of(late).stage_id = self.stage_reminder
        partners = late | current | none
        self.assertTrue(self._case_of(current))
        stage = self._case_of(current).stage_id
        self.assertNotEqual(stage, self.stage_reminder)

        def found(operator, value):
            return Partner.search([("id", "in", partners.ids), ("debt_stage_id", operator, value)])

        self.assertEqual(found("=", self.stage_reminder.id), late)
        self.assertEqual(found("=", False), none)
        self.assertEqual(found("!=", False), late | current)
        self.assertEqual(found("!=", self.stage_reminder.id), current | none)
        self.assertEqual(found("in", [self.stage_reminder.id, False]), late | none)
        self.assertEqual(found("not in", [self.stage_reminder.id]), current | none)
        self.assertEqual(found("ilike", self.stage_reminder.name), late)
        self.assertEqual(found("not ilike", self.stage_reminder.name), current | none)
