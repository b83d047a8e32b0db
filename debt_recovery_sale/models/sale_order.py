from odoo import models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def action_confirm(self):
        self._debt_check_credit_hold()
        return super().action_confirm()

    def _debt_check_credit_hold(self):
        """Refuse to confirm orders of customers on credit hold, unless a manager
        granted a one-off override (used up by this confirmation)."""
        for company, orders in self.grouped("company_id").items():
            Partner = self.env["res.partner"].with_company(company).sudo()
            customers = Partner.browse(orders.partner_id.commercial_partner_id.ids)
            reasons = customers._debt_hold_reasons()
            for order in orders:
                customer = customers.browse(order.partner_id.commercial_partner_id.id)
                if customer not in reasons:
                    continue
                if customer.debt_hold_override:
                    customer.debt_hold_override = False
                    customer.message_post(
                        body=self.env._(
                            "Credit hold override used for %(order)s.", order=order.name
                        ),
                        subtype_xmlid="mail.mt_note",
                    )
                    continue
                raise UserError(
                    self.env._(
                        "%(customer)s is on credit hold: %(reasons)s. The order cannot be "
                        "confirmed; a Recovery Manager can grant a one-off override.",
                        customer=customer.display_name,
                        reasons="; ".join(reasons[customer]),
                    )
                )
