from odoo import api, fields, models


class DebtRecoveryWriteoffLine(models.Model):
    """One item of a write-off and how much of it is written off (all it
    owes, or part of it)."""

    _name = "debt.recovery.writeoff.line"
    _description = "Item Written Off"
    _inherit = ["debt.recovery.workflow.mixin", "debt.recovery.number.mixin"]
    _order = "writeoff_id, id"
    _check_company_auto = True
    _debt_workflow_fields = ("amount_company", "amount_vat")

    # === FIELDS === #
    writeoff_id = fields.Many2one(
        comodel_name="debt.recovery.writeoff",
        string="Write-Off",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="writeoff_id.company_id", store=True, index=True)
    move_line_id = fields.Many2one(
        comodel_name="account.move.line",
        string="Item",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
    )
    invoice_id = fields.Many2one(related="move_line_id.move_id", string="Invoice")
    date_maturity = fields.Date(related="move_line_id.date_maturity", string="Due Date")
    currency_id = fields.Many2one(related="writeoff_id.currency_id", store=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount = fields.Monetary(string="Written Off", required=True, currency_field="currency_id")
    amount_vat = fields.Monetary(
        string="Of Which VAT",
        readonly=True,
        currency_field="currency_id",
        help="The output VAT taken back under the bad-debt relief.",
    )
    amount_company = fields.Monetary(
        string="In Company Currency",
        readonly=True,
        currency_field="company_currency_id",
        help="At the rate of the write-off's date, as posted.",
    )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        for writeoff in lines.writeoff_id:
            writeoff._debt_ensure_editable()
        return lines

    def write(self, vals):
        if set(vals) - set(self._debt_workflow_fields):
            self.writeoff_id._debt_ensure_editable()
        return super().write(vals)
