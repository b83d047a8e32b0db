from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The late-payment law that applies to a company's letters, by the country of
# the company (the creditor); the EU directive for every other country.
JURISDICTIONS = {"FR": "fr", "DE": "de", "NL": "nl", "ES": "es", "GB": "uk"}


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

    debt_letter_window = fields.Selection(
        selection=[
            ("right", "Right Window"),
            ("left", "Left Window (DIN 5008)"),
        ],
        string="Envelope Window",
        default="right",
        required=True,
        help="Where the recipient's address is printed on letters, so that a window "
        "envelope shows it: on the right (C5/DL right window, usual in France, Spain and "
        "the United Kingdom) or on the left, 20 mm from the edge (DIN 5008, usual in "
        "Germany, Austria and Switzerland).",
    )

    def _debt_jurisdiction(self):
        """The late-payment law of the company's letters: ``fr``, ``de``,
        ``nl``, ``es``, ``uk``, or ``eu`` (Directive 2011/7/EU) elsewhere."""
        self.ensure_one()
        return JURISDICTIONS.get(self.country_id.code, "eu")

    @api.constrains("debt_hold_overdue_days")
    def _check_debt_hold_overdue_days(self):
        if any(company.debt_hold_overdue_days < 0 for company in self):
            raise ValidationError(
                self.env._("The number of days overdue for a credit hold cannot be negative.")
            )
