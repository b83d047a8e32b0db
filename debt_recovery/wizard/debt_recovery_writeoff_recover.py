from odoo import api, fields, models


class DebtRecoveryWriteoffRecover(models.TransientModel):
    """A recovery manager books a payment of the customer (or of an agency
    for it) as recovered on the case's written-off debt."""

    _name = "debt.recovery.writeoff.recover"
    _description = "Book a Recovery of Written-Off Debt"

    # === FIELDS === #
    case_id = fields.Many2one(comodel_name="debt.recovery.case", required=True, readonly=True)
    partner_id = fields.Many2one(related="case_id.partner_id")
    company_id = fields.Many2one(related="case_id.company_id")
    payment_line_id = fields.Many2one(
        comodel_name="account.move.line",
        string="Payment",
        required=True,
        domain="[('partner_id', 'child_of', partner_id), ('company_id', '=', company_id),"
        " ('account_type', '=', 'asset_receivable'), ('parent_state', '=', 'posted'),"
        " ('reconciled', '=', False), ('amount_residual', '<', 0)]",
        help="The customer's payment or credit, not matched with any invoice yet.",
    )
    currency_id = fields.Many2one(related="payment_line_id.currency_id")
    amount = fields.Monetary(
        string="Recovered",
        compute="_compute_amount",
        store=True,
        readonly=False,
        currency_field="currency_id",
    )
    date = fields.Date(string="Accounting Date", required=True, default=fields.Date.context_today)

    # === COMPUTE METHODS === #
    @api.depends("payment_line_id", "date")
    def _compute_amount(self):
        Recovery = self.env["debt.recovery.writeoff.recovery"]
        for wizard in self:
            line = wizard.payment_line_id
            if not line:
                wizard.amount = 0.0
                continue
            open_writeoffs = Recovery._debt_recoverable(wizard.case_id, line.currency_id)
            wizard.amount = min(
                -line.amount_residual_currency,
                Recovery._debt_recoverable_in(
                    open_writeoffs,
                    line.currency_id,
                    wizard.case_id.company_id,
                    wizard.date or fields.Date.context_today(wizard),
                ),
            )

    # === ACTION METHODS === #
    def action_confirm(self):
        self.ensure_one()
        self.env["debt.recovery.writeoff.recovery"]._debt_book(
            self.case_id, self.payment_line_id, self.amount, self.date
        )
        return {"type": "ir.actions.act_window_close"}
