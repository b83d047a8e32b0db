from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount


class DebtRecoveryLegalCost(models.Model):
    """A cost of a legal action, from the vendor bill of the court, the
    lawyer or the bailiff. A recoverable cost is charged to the customer once
    (a charge line of kind ``legal_cost``, as the compensation is)."""

    _name = "debt.recovery.legal.cost"
    _description = "Legal Action Cost"
    _order = "date, id"
    _check_company_auto = True

    # === FIELDS === #
    legal_action_id = fields.Many2one(
        comodel_name="debt.recovery.legal.action",
        string="Legal Action",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="legal_action_id.company_id", store=True)
    move_id = fields.Many2one(
        comodel_name="account.move",
        string="Vendor Bill",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        domain="[('move_type', '=', 'in_invoice'), ('state', '=', 'posted')]",
    )
    kind = fields.Selection(
        selection=[
            ("court_fee", "Court Fee"),
            ("lawyer_fee", "Lawyer's Fee"),
            ("bailiff_fee", "Bailiff's Fee"),
            ("other", "Other"),
        ],
        required=True,
        default="court_fee",
    )
    date = fields.Date(related="move_id.invoice_date", store=True)
    vendor_id = fields.Many2one(related="move_id.partner_id", string="Vendor")
    currency_id = fields.Many2one(related="move_id.currency_id", store=True)
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        currency_field="currency_id",
        help="The bill's amount without taxes (the company recovers its input VAT).",
    )
    recoverable = fields.Boolean(
        default=True,
        help="The law or the judgment lets the company charge this cost to the customer.",
    )
    charge_line_ids = fields.One2many(
        comodel_name="debt.recovery.charge.line",
        inverse_name="legal_cost_id",
        string="Charged",
        readonly=True,
    )
    charged = fields.Boolean(string="Charged to Customer", compute="_compute_charged")

    # === COMPUTE METHODS === #
    @api.depends("move_id.amount_untaxed")
    def _compute_amount(self):
        for cost in self:
            cost.amount = cost.move_id.amount_untaxed

    @api.depends("charge_line_ids")
    def _compute_charged(self):
        for cost in self:
            cost.charged = bool(cost.charge_line_ids)

    # === CONSTRAINT METHODS === #
    @api.constrains("move_id")
    def _check_move(self):
        for cost in self:
            bill = cost.move_id
            if bill.move_type != "in_invoice" or bill.state != "posted":
                raise ValidationError(
                    self.env._(
                        "A legal cost is recorded from a posted vendor bill, not %(move)s.",
                        move=bill.display_name,
                    )
                )
        twice = self._read_group(
            [("move_id", "in", self.move_id.ids)],
            ["move_id"],
            ["__count"],
            having=[("__count", ">", 1)],
        )
        if twice:
            raise ValidationError(
                self.env._(
                    "The vendor bill %(bill)s is recorded once as a legal cost.",
                    bill=twice[0][0].display_name,
                )
            )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        costs = super().create(vals_list)
        for cost in costs:
            action = cost.legal_action_id
            action.case_id.message_post(
                body=self.env._(
                    "Legal action %(name)s: cost %(bill)s of %(amount)s recorded "
                    "(%(kind)s%(rec)s).",
                    name=action.display_name,
                    bill=cost.move_id.display_name,
                    amount=format_amount(self.env, cost.amount, cost.currency_id),
                    kind=dict(cost._fields["kind"]._description_selection(self.env))[cost.kind],
                    rec=self.env._(", recoverable") if cost.recoverable else "",
                ),
                subtype_xmlid="mail.mt_note",
            )
        return costs

    def write(self, vals):
        if self.filtered("charge_line_ids") and {"move_id", "recoverable"} & set(vals):
            raise UserError(self.env._("A legal cost charged to the customer is on record."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_charged(self):
        if self.filtered("charge_line_ids"):
            raise UserError(self.env._("A legal cost charged to the customer cannot be deleted."))
