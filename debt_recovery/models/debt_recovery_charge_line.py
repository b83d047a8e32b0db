from odoo import fields, models


class DebtRecoveryChargeLine(models.Model):
    """One period of interest, one compensation or one level fee, charged
    or waived: what ``account.move.line._debt_late_payment`` counts as no
    longer owed."""

    _name = "debt.recovery.charge.line"
    _description = "Late-Payment Charge Line"
    _order = "charge_id, id"

    charge_id = fields.Many2one(
        comodel_name="debt.recovery.charge", required=True, index=True, ondelete="cascade"
    )
    state = fields.Selection(related="charge_id.state", store=True)
    currency_id = fields.Many2one(related="charge_id.currency_id")
    kind = fields.Selection(
        selection=[
            ("interest", "Interest"),
            ("compensation", "Fixed Compensation"),
            ("fee", "Level Fee"),
            ("legal_cost", "Legal Costs"),
        ],
        required=True,
    )
    item_id = fields.Many2one(
        comodel_name="account.move.line",
        string="Item",
        index="btree_not_null",
        ondelete="restrict",
    )
    communication_id = fields.Many2one(
        comodel_name="debt.recovery.communication",
        string="Communication",
        index="btree_not_null",
        ondelete="restrict",
    )
    legal_cost_id = fields.Many2one(
        comodel_name="debt.recovery.legal.cost",
        string="Legal Cost",
        index="btree_not_null",
        ondelete="restrict",
    )
    date_from = fields.Date(string="From")
    date_to = fields.Date(string="To")
    rate = fields.Char(string="Rate a Year")
    amount = fields.Monetary(currency_field="currency_id", required=True)
