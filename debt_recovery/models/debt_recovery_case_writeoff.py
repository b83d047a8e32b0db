from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import bulk_log_note

MANAGER_GROUP = "debt_recovery.group_debt_recovery_manager"


class DebtRecoveryCase(models.Model):
    """The case's write-offs and what came back of them: written-off debt
    stays on the case (what, by whom, why), and so does every recovery."""

    _inherit = "debt.recovery.case"

    # === FIELDS === #
    writeoff_ids = fields.One2many(
        comodel_name="debt.recovery.writeoff",
        inverse_name="case_id",
        string="Write-Offs",
        readonly=True,
    )
    writeoff_count = fields.Integer(compute="_compute_writeoff_amounts")
    amount_written_off = fields.Monetary(
        string="Written Off",
        compute="_compute_writeoff_amounts",
        currency_field="currency_id",
        help="Debt written off on this case (posted write-offs), in company currency.",
    )
    amount_recovered = fields.Monetary(
        string="Recovered After Write-Off",
        compute="_compute_writeoff_amounts",
        currency_field="currency_id",
        help="What the customer (or an agency) paid since of the debt written off, in "
        "company currency.",
    )
    recovery_rate = fields.Float(
        string="Recovery Rate (%)",
        compute="_compute_writeoff_amounts",
        digits=(5, 1),
        help="Recovered after write-off / written off.",
    )

    # === COMPUTE METHODS === #
    @api.depends(
        "writeoff_ids.state",
        "writeoff_ids.amount_total_company",
        "writeoff_ids.recovery_ids.amount_company",
    )
    def _compute_writeoff_amounts(self):
        cases = self.filtered("id")
        Writeoff = self.env["debt.recovery.writeoff"]
        written = {
            case: (count, total)
            for case, count, total in Writeoff._read_group(
                [("case_id", "in", cases.ids), ("state", "=", "posted")],
                ["case_id"],
                ["__count", "amount_total_company:sum"],
            )
        }
        recovered = dict(
            self.env["debt.recovery.writeoff.recovery"]._read_group(
                [("case_id", "in", cases.ids)], ["case_id"], ["amount_company:sum"]
            )
        )
        for case in self:
            count, total = written.get(case._origin, (0, 0.0))
            back = recovered.get(case._origin, 0.0)
            case.writeoff_count = count
            case.amount_written_off = total
            case.amount_recovered = back
            case.recovery_rate = 100.0 * back / total if total else 0.0

    # === ACTION METHODS === #
    def action_open_writeoff_wizard(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(self.env._("Only a recovery manager can write off debt."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Write Off"),
            "res_model": "debt.recovery.writeoff.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_case_ids": self.ids},
        }

    def action_open_recovery_wizard(self):
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(self.env._("Only a recovery manager can book a recovery."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Book a Recovery"),
            "res_model": "debt.recovery.writeoff.recover",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_case_id": self.id},
        }

    def action_view_writeoffs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_writeoff_action"
        )
        action["domain"] = [("case_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # === BUSINESS METHODS === #
    @api.model
    def _sync_cases(self, partners=None):
        res = super()._sync_cases(partners)
        # A written-off case whose customer owes overdue debt again (an
        # invoice fallen due since) goes back onto the ladder: the new debt
        # gets its reminders, the write-offs stay on the case.
        domain = [("stage_kind", "=", "written_off")]
        if partners is not None:
            domain.append(("partner_id", "in", partners.commercial_partner_id.ids))
        owing = self.search(domain)._unheld()
        if owing:
            owing._back_to_ladder()
            bulk_log_note(
                owing,
                self.env._("Escalation resumes: new debt fell due after the write-off."),
            )
        return res
