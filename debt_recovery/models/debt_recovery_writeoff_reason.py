from odoo import fields, models


class DebtRecoveryWriteoffReason(models.Model):
    """Why a debt is written off (insolvency, uneconomic to pursue...): the
    write-off report groups the losses by it."""

    _name = "debt.recovery.writeoff.reason"
    _description = "Write-Off Reason"
    _order = "sequence, id"

    # === FIELDS === #
    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="A short code for exports and the accountant's analysis.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
