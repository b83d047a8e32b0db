from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    debt_hold_on_limit = fields.Boolean(
        string="Hold Customers Over Their Credit Limit",
        help="Refuse new invoices to customers whose exposure exceeds their credit limit.",
    )
    debt_hold_overdue_days = fields.Integer(
        string="Hold After Days Overdue",
        help="Refuse new invoices to customers with an invoice overdue more than this many "
        "days (0: never).",
    )
    debt_hold_stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Hold From Recovery Stage",
        help="Refuse new invoices to customers whose recovery case reached this stage or a "
        "later one.",
    )

    @api.constrains("debt_hold_overdue_days")
    def _check_debt_hold_overdue_days(self):
        if any(company.debt_hold_overdue_days < 0 for company in self):
            raise ValidationError(
                self.env._("The number of days overdue for a credit hold cannot be negative.")
            )
