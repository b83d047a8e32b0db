from odoo import models

from .debt_recovery_evidence_pack import EvidenceSection, _safe_name


class DebtRecoveryEvidencePack(models.Model):
    """The evidence pack's section of the collection agencies: each hand-off
    with its items, the agency's reports and collections, and the case file
    and announcement letter that left (kept in the ZIP, the letter appended)."""

    _inherit = "debt.recovery.evidence.pack"  # pylint: disable=consider-merging-classes-inherited

    # === BUSINESS METHODS === #
    def _debt_section_agency(self):
        handoffs = self.env["debt.recovery.agency.handoff"].search(
            [("case_id", "=", self.case_id.id)], order="date, id"
        )
        if not handoffs:
            return None
        originals, appendices = [], []
        for handoff in handoffs:
            folder = f"agency/{handoff.date}_{_safe_name(handoff.agency_id.name)}_{handoff.id}"
            files = (
                handoff.case_file_pdf_id
                | handoff.case_file_csv_id
                | handoff.case_file_json_id
                | handoff.letter_attachment_id
            )
            for attachment in files:
                originals.append((f"{folder}/{_safe_name(attachment.name)}", attachment.raw))
            letter = handoff.letter_attachment_id
            if letter and letter.raw.startswith(b"%PDF-"):
                appendices.append(
                    (
                        self.env._(
                            "Letter announcing the hand-off to %(agency)s",
                            agency=handoff.agency_id.name,
                        ),
                        letter.raw,
                    )
                )
        return EvidenceSection(
            "agency",
            self.env._("Collection Agency"),
            "debt_recovery.report_evidence_pack_agency",
            {"handoffs": handoffs},
            originals,
            appendices,
        )
