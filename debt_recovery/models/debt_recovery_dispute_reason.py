from odoo import fields, models


class DebtRecoveryDisputeReason(models.Model):
    _name = "debt.recovery.dispute.reason"
    _description = "Dispute Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
