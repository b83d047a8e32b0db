from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def action_confirm(self):
        # Orders of customers on credit hold are refused, as their invoices are.
        Partner = self.env["res.partner"]
        overrides = Partner._debt_enforce_credit_hold(
            self,
            lambda order: order.partner_id.commercial_partner_id,
            self.env._("The order cannot be confirmed"),
        )
        res = super().action_confirm()
        Partner._debt_log_overrides_used(overrides)
        return res
