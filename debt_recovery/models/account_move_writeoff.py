from odoo import api, models
from odoo.exceptions import UserError

from .debt_recovery_workflow_mixin import WORKFLOW_STEP


class AccountMove(models.Model):
    """The entry of a posted write-off or of a recovery stays as booked: reset
    to draft, deleted or reversed by hand, the write-off would still count as
    written off (and recoverable) while the invoice is owed again."""

    _inherit = "account.move"

    # === CRUD METHODS === #
    @api.ondelete(at_uninstall=False)
    def _unlink_except_debt_writeoff(self):
        self._debt_ensure_not_writeoff_entry()

    # === ACTION METHODS === #
    def button_draft(self):
        self._debt_ensure_not_writeoff_entry()
        return super().button_draft()

    # === BUSINESS METHODS === #
    def _reverse_moves(self, default_values_list=None, cancel=False):
        self._debt_ensure_not_writeoff_entry()
        return super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)

    def _debt_ensure_not_writeoff_entry(self):
        """Refuse to undo by hand the entry of a posted write-off or of a
        recovery: only the write-off's own actions (which run as a workflow
        step and move the write-off with its entry) may."""
        moves = self.filtered("id")
        if WORKFLOW_STEP or not moves:
            return
        # sudo: whoever touches the entry (an accountant without recovery
        # rights) is told which record it books; nothing is read beyond that.
        writeoffs = (
            self.env["debt.recovery.writeoff"]
            .sudo()
            .search([("move_id", "in", moves.ids), ("state", "=", "posted")], limit=1)
        )
        if writeoffs:
            raise UserError(
                self.env._(
                    "%(move)s is the entry of the write-off %(writeoff)s: it cannot be reset "
                    "to draft, deleted or reversed by hand, the write-off would stay written "
                    "off. Use the Reverse action of the write-off instead.",
                    move=writeoffs.move_id.display_name,
                    writeoff=writeoffs.display_name,
                )
            )
        recoveries = (
            self.env["debt.recovery.writeoff.recovery"]
            .sudo()
            .search([("move_id", "in", moves.ids)], limit=1)
        )
        if recoveries:
            raise UserError(
                self.env._(
                    "%(move)s books money recovered on the write-off %(writeoff)s: it cannot "
                    "be reset to draft, deleted or reversed by hand, the recovery would stay "
                    "booked. Use the actions of the write-off instead.",
                    move=recoveries.move_id.display_name,
                    writeoff=recoveries.writeoff_id.display_name,
                )
            )
