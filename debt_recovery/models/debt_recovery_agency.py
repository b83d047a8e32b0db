from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class DebtRecoveryAgency(models.Model):
    """A collection agency the company hands cases to, with its terms: a
    commission on what it collects (a percentage, a minimum), a fixed fee a
    case, and who the customer pays (the agency, or the company directly)."""

    _name = "debt.recovery.agency"
    _description = "Collection Agency"
    _inherit = ["mail.thread", "debt.recovery.number.mixin"]
    _order = "name, id"
    _check_company_auto = True

    # === FIELDS === #
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Agency",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('parent_id', '=', False)]",
        help="The agency's partner: its vendor bills and its collections are booked to it.",
    )
    name = fields.Char(related="partner_id.name", store=True, readonly=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    active = fields.Boolean(default=True)
    commission_percent = fields.Float(
        string="Commission (%)",
        digits=(5, 2),
        tracking=True,
        help="The agency's commission, as a percentage of what it collects.",
    )
    commission_minimum = fields.Monetary(
        string="Minimum Commission",
        currency_field="currency_id",
        tracking=True,
        help="The least commission of a case the agency collected on (never more than what "
        "it collected).",
    )
    fee_per_case = fields.Monetary(
        string="Fixed Fee per Case",
        currency_field="currency_id",
        tracking=True,
        help="Billed once a case handed, with its first collection (or when the case is "
        "recalled or closed without one).",
    )
    collects = fields.Selection(
        selection=[
            ("agency", "The agency collects on its own account"),
            ("direct", "The customer pays us directly"),
        ],
        string="Payments",
        required=True,
        default="agency",
        tracking=True,
        help="On its own account: what the agency reports collected is booked against the "
        "customer's items through the agency clearing account. Directly: the customer's "
        "payments are registered as usual; the agency's report records them for its "
        "commission (billed on the report), and the items stay with the agency until the "
        "customer's payment is matched with them.",
    )
    announce_letter = fields.Boolean(
        string="Announce to the Customer",
        default=True,
        help="A letter tells the customer that its debt was handed to the agency.",
    )
    announcement_text = fields.Text(
        translate=True,
        help="Added to the announcement letter (how to reach the agency, for instance).",
    )
    handoff_ids = fields.One2many(
        comodel_name="debt.recovery.agency.handoff",
        inverse_name="agency_id",
        string="Hand-Offs",
        readonly=True,
    )
    case_count = fields.Integer(string="Cases Handed", compute="_compute_results")
    amount_handed = fields.Monetary(
        compute="_compute_results", currency_field="currency_id", help="In company currency."
    )
    amount_collected = fields.Monetary(
        compute="_compute_results", currency_field="currency_id", help="In company currency."
    )
    amount_commission = fields.Monetary(
        string="Commission",
        compute="_compute_results",
        currency_field="currency_id",
        help="In company currency.",
    )
    recovery_rate = fields.Float(
        string="Recovery Rate (%)",
        compute="_compute_results",
        digits=(5, 1),
        help="What the agency collected, of what it was handed.",
    )

    _sql_constraints = [
        (
            "partner_company_unique",
            "UNIQUE(partner_id, company_id)",
            "A partner is one collection agency in a company.",
        )
    ]

    # === COMPUTE METHODS === #
    @api.depends(
        "handoff_ids.amount_handed_company",
        "handoff_ids.amount_collected_company",
        "handoff_ids.amount_commission_company",
    )
    def _compute_results(self):
        rows = self.env["debt.recovery.agency.handoff"]._read_group(
            [("agency_id", "in", self.ids)],
            ["agency_id"],
            [
                "case_id:count_distinct",
                "amount_handed_company:sum",
                "amount_collected_company:sum",
                "amount_commission_company:sum",
            ],
        )
        results = {agency: values for agency, *values in rows}
        for agency in self:
            cases, handed, collected, commission = results.get(agency._origin, (0, 0.0, 0.0, 0.0))
            agency.case_count = cases
            agency.amount_handed = handed
            agency.amount_collected = collected
            agency.amount_commission = commission
            agency.recovery_rate = 100.0 * collected / handed if handed else 0.0

    # === CONSTRAINT METHODS === #
    @api.constrains("commission_percent", "commission_minimum", "fee_per_case")
    def _check_terms(self):
        for agency in self:
            if not 0.0 <= agency.commission_percent <= 100.0:
                raise ValidationError(
                    self.env._("An agency's commission is between 0 and 100 per cent.")
                )
            if agency.commission_minimum < 0 or agency.fee_per_case < 0:
                raise ValidationError(
                    self.env._("An agency's minimum commission and fee cannot be negative.")
                )

    # === ACTION METHODS === #
    def action_view_handoffs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_agency_handoff_action"
        )
        action["domain"] = [("agency_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # === BUSINESS METHODS === #
    def _ensure_terms(self):
        """Refuse an agency without commission terms: what it earns must be
        agreed before it is handed a case."""
        for agency in self:
            if not agency.commission_percent and not agency.fee_per_case:
                raise UserError(
                    self.env._(
                        "%(agency)s has no commission terms: set its commission percentage or "
                        "its fee per case (Debt Recovery > Configuration > Collection "
                        "Agencies) before handing it a case.",
                        agency=agency.display_name,
                    )
                )
