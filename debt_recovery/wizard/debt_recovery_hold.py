from odoo import api, fields, models


class DebtRecoveryHold(models.TransientModel):
    _name = "debt.recovery.hold"
    _description = "Set, Release or Override a Credit Hold, or Change a Credit Limit"

    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer", required=True)
    action = fields.Selection(
        selection=[
            ("hold", "Put on hold"),
            ("release", "Release the hold"),
            ("override", "Grant a one-off override"),
            ("limit", "Change the credit limit"),
        ],
        required=True,
        default="hold",
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency", default=lambda self: self.env.company.currency_id
    )
    current_credit_limit = fields.Float(compute="_compute_current_credit_limit")
    # A Float as the partner's credit_limit is; the action refuses what is
    # not a finite positive amount (a Monetary fails on NaN while rounding).
    new_credit_limit = fields.Float(
        compute="_compute_new_credit_limit",
        store=True,
        readonly=False,
        help="0 for no credit limit of its own.",
    )
    reason = fields.Text(required=True)

    # === COMPUTE METHODS === #
    @api.depends("partner_id")
    @api.depends_context("company")
    def _compute_current_credit_limit(self):
        for wizard in self:
            # sudo: shows the limit the customer has; changing it is checked.
            wizard.current_credit_limit = (
                wizard.partner_id.commercial_partner_id.sudo().credit_limit
            )

    @api.depends("partner_id")
    def _compute_new_credit_limit(self):
        for wizard in self:
            wizard.new_credit_limit = wizard.partner_id.commercial_partner_id.sudo().credit_limit

    # === ACTION METHODS === #
    def action_apply(self):
        self.ensure_one()
        if self.action == "limit":
            self.partner_id._debt_set_credit_limit(self.new_credit_limit, self.reason)
        else:
            self.partner_id._debt_set_hold(self.action, self.reason)
        return {"type": "ir.actions.act_window_close"}
