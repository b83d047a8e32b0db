from datetime import timedelta

from odoo import Command
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
