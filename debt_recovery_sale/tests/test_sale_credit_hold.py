from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.debt_recovery.tests.common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestSaleCreditHold(DebtRecoveryCommon):
    def _order(self, amount):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "product_uom_qty": 1,
                            "price_unit": amount,
                            "tax_id": [],
                        }
                    )
                ],
            }
        )

    def test_uninvoiced_orders_count_in_the_exposure(self):
        self._set_credit_limit(self.customer, 1000.0)
        self._invoice(self.customer, 200.0, days_late=-10)
        self._order(300.0).action_confirm()
        self.assertEqual(self.customer.debt_exposure, 500.0)

    def test_held_customer_cannot_confirm(self):
        self.company.debt_hold_on_limit = True
        self._set_credit_limit(self.customer, 500.0)
        self._invoice(self.customer, 450.0, days_late=-10)
        self._order(100.0).action_confirm()  # exposure 550 > 500 from now on
        order = self._order(50.0)
        with self.assertRaises(UserError) as error:
            order.action_confirm()
        self.assertIn("credit hold", str(error.exception))
        self.assertEqual(order.state, "draft")
        self.env["debt.recovery.hold"].with_user(self.user_manager).create(
            {"partner_id": self.customer.id, "action": "override", "reason": "Prepaid"}
        ).action_apply()
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        log = self.customer.message_ids.filtered(lambda m: "override used" in (m.body or ""))
        self.assertEqual(len(log), 1)
        self.assertIn(order.name, log.body, "The order it let through.")
        self.assertIn(self.user_manager.name, log.body, "The manager who granted it.")
        self.assertFalse(self.customer.debt_hold_override_user_id)
