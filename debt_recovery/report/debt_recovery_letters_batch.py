from odoo import api, models


class ReportRecoveryLettersBatch(models.AbstractModel):
    _name = "report.debt_recovery.report_recovery_letters_batch"
    _description = "Recovery Letters Print Batch"

    @api.model
    def _get_report_values(self, docids, data=None):
        letter_ids = (data or {}).get("letter_ids") or docids or []
        return {
            "doc_ids": letter_ids,
            "doc_model": "debt.recovery.communication",
            "docs": self.env["debt.recovery.communication"].browse(letter_ids),
        }
