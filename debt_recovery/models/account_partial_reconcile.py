from odoo import models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        # Unreconciling can make paid items overdue again: reopen their cases.
        lines = self.debit_move_id | self.credit_move_id
        res = super().unlink()
        lines.exists()._debt_sync_cases_from_lines()
        return res
