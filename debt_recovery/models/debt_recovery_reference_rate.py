from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.late_payment import RateTable

# Beyond it, a rate is a typing error (percent a year).
MAX_RATE = 100.0


class DebtRecoveryReferenceRate(models.Model):
    """A published reference rate (ECB, German base rate, Bank of England),
    applying from its date until the next one of its kind."""

    _name = "debt.recovery.reference.rate"
    _inherit = ["debt.recovery.number.mixin"]
    _description = "Reference Interest Rate"
    _order = "kind_id, date_from desc"
    _rec_name = "kind_id"

    # === FIELDS === #
    kind_id = fields.Many2one(
        comodel_name="debt.recovery.reference.rate.kind",
        string="Kind",
        required=True,
        ondelete="restrict",
    )
    # The kind's code, as the late-payment engine (tools/late_payment.py)
    # and the statutes name it.
    kind = fields.Char(related="kind_id.code", store=True, index=True)
    date_from = fields.Date(string="Applies From", required=True)
    rate = fields.Float(
        string="Rate (% a Year)",
        digits=(5, 3),
        required=True,
        help="The published rate, in percent a year. It may be negative (the German "
        "base rate was -0.88 % from 2016 to 2022): the statutory rate is never below "
        "zero.",
    )
    source = fields.Char(help="Where the value was published (e.g. Bundesanzeiger).")

    _sql_constraints = [
        (
            "kind_date_unique",
            "UNIQUE(kind_id, date_from)",
            "A reference rate of this kind already applies from this date.",
        ),
    ]

    # === CONSTRAINT METHODS === #
    @api.constrains("rate")
    def _check_rate(self):
        for rate in self:
            if not -MAX_RATE < rate.rate < MAX_RATE:
                raise ValidationError(
                    self.env._(
                        "A reference rate must be between -%(max)s and %(max)s percent a year.",
                        max=MAX_RATE,
                    )
                )

    # === BUSINESS METHODS === #
    @api.model
    def _debt_rate_table(self):
        """Every reference rate, in one read, for the late-payment engine."""
        rows = {}
        rates = self.sudo().search_fetch([], ["kind", "date_from", "rate"], order="kind, date_from")
        for rate in rates:
            rows.setdefault(rate.kind, []).append((rate.date_from, rate.rate))
        return RateTable(rows)
