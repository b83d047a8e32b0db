from odoo import models

from .debt_recovery_evidence_pack import EvidenceSection


class DebtRecoveryEvidencePack(models.Model):
    """The evidence pack's section of the write-offs: what was written off,
    when, why, by whom and who approved it, and what came back since; and
    a write-off is never shown as a payment received."""

    _inherit = "debt.recovery.evidence.pack"  # pylint: disable=consider-merging-classes-inherited

    # === BUSINESS METHODS === #
    def _debt_section_summary(self):
        # A debt written off in the books is still owed: it stays in the
        # claim, less what was recovered since.
        section = super()._debt_section_summary()
        case = self.case_id
        unrecovered = case.amount_written_off - case.amount_recovered
        if section and not case.currency_id.is_zero(unrecovered):
            section.values["rows"].insert(
                1,
                (self.env._("Principal written off in our accounts, still owed"), unrecovered),
            )
            section.values["total"] += unrecovered
        return section

    def _debt_non_payment_moves(self):
        # A write-off settles the items in the books: nothing was paid.
        # sudo: only the entries are read, to leave them out of what was paid.
        writeoffs = (
            self.env["debt.recovery.writeoff"].sudo().search([("case_id", "=", self.case_id.id)])
        )
        return super()._debt_non_payment_moves() | writeoffs.move_id | writeoffs.reversal_move_id

    def _debt_section_payments(self):
        section = super()._debt_section_payments()
        if not section:
            return section
        # sudo: only the entries' names are read, to label the rows.
        writeoff_moves = set(
            self.env["debt.recovery.writeoff"]
            .sudo()
            .search([("case_id", "=", self.case_id.id), ("state", "=", "posted")])
            .move_id.mapped("name")
        )
        for row in section.values["rows"]:
            if row["reference"] in writeoff_moves:
                row["kind"] = self.env._("Written off (no payment)")
        return section

    def _debt_section_writeoff(self):
        writeoffs = self.env["debt.recovery.writeoff"].search(
            [("case_id", "=", self.case_id.id), ("state", "=", "posted")], order="date, id"
        )
        if not writeoffs:
            return None
        case = self.case_id
        return EvidenceSection(
            "writeoff",
            self.env._("Debt Written Off and Recovered Since"),
            "debt_recovery.report_evidence_pack_writeoff",
            {
                "writeoffs": writeoffs,
                "written_off": case.amount_written_off,
                "recovered": case.amount_recovered,
                "rate": case.recovery_rate,
                "currency": case.currency_id,
            },
        )
