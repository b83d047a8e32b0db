from odoo import fields, models

from ..models.debt_recovery_agency_report import REPORT_KINDS


class DebtRecoveryAgencyReportWizard(models.TransientModel):
    _name = "debt.recovery.agency.report.wizard"
    _inherit = ["debt.recovery.number.mixin"]
    _description = "Record a Collection Agency Report"

    handoff_id = fields.Many2one(
        comodel_name="debt.recovery.agency.handoff",
        string="Hand-Off",
        required=True,
        readonly=True,
    )
    currency_id = fields.Many2one(related="handoff_id.currency_id")
    amount_remaining = fields.Monetary(
        related="handoff_id.amount_remaining", currency_field="currency_id"
    )
    collects = fields.Selection(related="handoff_id.collects")
    date = fields.Date(required=True, default=fields.Date.context_today)
    kind = fields.Selection(selection=REPORT_KINDS, required=True, default="contact")
    amount = fields.Monetary(currency_field="currency_id")
    note = fields.Text()

    def action_record(self):
        self.ensure_one()
        self.handoff_id._record_report(
            {"date": self.date, "kind": self.kind, "amount": self.amount, "note": self.note}
        )
        return {"type": "ir.actions.act_window_close"}
