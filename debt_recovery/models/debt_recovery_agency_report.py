from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

REPORT_KINDS = [
    ("contact", "Contact"),
    ("promise", "Promise to Pay"),
    ("collected", "Amount Collected"),
    ("other", "Other"),
]


class DebtRecoveryAgencyReport(models.Model):
    """What an agency reports on a case it was handed: a contact and its
    result, a promise the customer made it, an amount it collected (booked and
    billed by the hand-off, ``_record_report``)."""

    _name = "debt.recovery.agency.report"
    _description = "Collection Agency Report"
    _inherit = ["debt.recovery.workflow.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    handoff_id = fields.Many2one(
        comodel_name="debt.recovery.agency.handoff",
        string="Hand-Off",
        required=True,
        index=True,
        readonly=True,
        ondelete="restrict",
    )
    case_id = fields.Many2one(related="handoff_id.case_id", store=True, index=True)
    agency_id = fields.Many2one(related="handoff_id.agency_id", store=True)
    company_id = fields.Many2one(related="handoff_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="handoff_id.currency_id")
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    kind = fields.Selection(selection=REPORT_KINDS, required=True, readonly=True)
    note = fields.Text(readonly=True)
    amount = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        help="Collected, or promised to the agency.",
    )
    amount_company = fields.Monetary(
        string="Amount (Company Currency)", currency_field="company_currency_id", readonly=True
    )
    collected_by = fields.Selection(
        selection=[("agency", "The agency"), ("direct", "Paid to us directly")],
        readonly=True,
    )
    move_id = fields.Many2one(
        comodel_name="account.move",
        string="Collection Entry",
        readonly=True,
        check_company=True,
        help="Agency clearing account against the customer's items.",
    )
    bill_id = fields.Many2one(
        comodel_name="account.move",
        string="Commission Bill",
        readonly=True,
        check_company=True,
    )
    commission_amount = fields.Monetary(
        string="Commission", currency_field="currency_id", readonly=True
    )
    fee_amount = fields.Monetary(string="Fee", currency_field="currency_id", readonly=True)
    commission_company = fields.Monetary(
        string="Commission and Fee (Company Currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Recorded By",
        default=lambda self: self.env.user,
        readonly=True,
    )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        if not self._debt_workflow_unlocked():
            raise UserError(
                self.env._(
                    "An agency report is recorded from its hand-off (Record Agency Report), "
                    "which books what was collected and the commission."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self._debt_workflow_unlocked():
            raise UserError(self.env._("An agency report is a record: it cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(self.env._("An agency report is a record: it cannot be deleted."))

    # === BUSINESS METHODS === #
    def _summary(self):
        """What the report says, for the chatter."""
        self.ensure_one()
        kind = dict(self._fields["kind"]._description_selection(self.env))[self.kind]
        parts = [
            self.env._(
                "Agency report of %(date)s (%(agency)s): %(kind)s",
                date=fields.Date.to_string(self.date),
                agency=self.agency_id.name,
                kind=kind,
            )
        ]
        if self.amount:
            parts.append(format_amount(self.env, self.amount, self.currency_id))
        if self.kind == "collected":
            parts.append(
                self.env._("booked against the customer's items")
                if self.move_id
                else self.env._("paid to us directly")
            )
        if self.commission_amount or self.fee_amount:
            parts.append(
                self.env._(
                    "commission bill of %(amount)s (draft)",
                    amount=format_amount(
                        self.env, self.commission_amount + self.fee_amount, self.currency_id
                    ),
                )
            )
        summary = Markup(", ").join(parts)
        if self.note:
            summary += Markup("<br/>") + self.note
        return summary
