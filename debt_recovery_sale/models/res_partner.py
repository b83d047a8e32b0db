from collections import defaultdict

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _debt_exposure_extra(self, commercials):
        extra = super()._debt_exposure_extra(commercials)
        company = self.env.company
        orders = self.env["sale.order"].search(
            [
                ("company_id", "=", company.id),
                ("partner_invoice_id.commercial_partner_id", "in", commercials.ids),
                ("state", "=", "sale"),
                ("order_line", "any", [("untaxed_amount_to_invoice", ">", 0)]),
            ]
        )
        today = fields.Date.context_today(self)
        amounts = defaultdict(float, extra)
        for (partner, currency), group in orders.grouped(
            lambda so: (so.partner_invoice_id.commercial_partner_id, so.currency_id)
        ).items():
            amounts[partner] += currency._convert(
                sum(group.mapped("amount_to_invoice")), company.currency_id, company, today
            )
        return dict(amounts)
