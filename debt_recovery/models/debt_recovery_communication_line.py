from odoo import fields, models


class DebtRecoveryCommunicationLine(models.Model):
    _name = "debt.recovery.communication.line"
    _description = "Item of a Recovery Communication"
    _order = "date_maturity, id"
    _check_company_auto = True
    # Written with its communication (which records who and when); only the
    # date its wait counts from moves with pauses. No log columns: each would
    # be one more foreign key to check for each of the thousands of lines the
    # daily run inserts.
    _log_access = False

    communication_id = fields.Many2one(
        comodel_name="debt.recovery.communication",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="communication_id.company_id", store=True)
    move_line_id = fields.Many2one(
        comodel_name="account.move.line",
        string="Receivable Item",
        required=True,
        # Looked up through the unique (item, level) index.
        ondelete="restrict",
        check_company=True,
    )
    move_id = fields.Many2one(related="move_line_id.move_id", string="Invoice")
    level_id = fields.Many2one(
        comodel_name="debt.recovery.level",
        string="Level",
        required=True,
        ondelete="restrict",
    )
    currency_id = fields.Many2one(comodel_name="res.currency", required=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    level_date = fields.Date(
        string="Waiting From",
        readonly=True,
        help="When the item's wait for its next level started: the day this level "
        "was sent, moved forward by the days the item was paused since.",
    )
    # What the letter said on the day it was sent: a record, not a live figure.
    days_overdue = fields.Integer(string="Days Overdue When Sent", readonly=True)
    amount_residual_currency = fields.Monetary(
        string="Amount Due",
        currency_field="currency_id",
        readonly=True,
    )

    _sql_constraints = [
        (
            "move_line_level_unique",
            "UNIQUE(move_line_id, level_id)",
            "An item is sent each level of its policy only once.",
        ),
    ]
