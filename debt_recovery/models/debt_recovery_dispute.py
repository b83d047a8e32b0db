from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount


class DebtRecoveryDispute(models.Model):
    _name = "debt.recovery.dispute"
    _description = "Disputed Receivable"
    _inherit = ["mail.thread", "mail.activity.mixin", "debt.recovery.pause.mixin"]
    _order = "date desc, id desc"
    _debt_pause_kind = "disputed"
    _debt_workflow_fields = ("state", "date_closed", "amount_disputed")

    # === FIELDS === #
    partner_id = fields.Many2one(compute="_compute_partner_id", store=True)
    move_id = fields.Many2one(
        comodel_name="account.move",
        string="Invoice",
        required=True,
        index=True,
        check_company=True,
        domain="[('move_type', 'in', ('out_invoice', 'out_receipt')), ('state', '=', 'posted')]",
        tracking=True,
    )
    move_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        string="Disputed Items",
        compute="_compute_move_line_ids",
        store=True,
        readonly=False,
        check_company=True,
        help="The invoice's open receivable items (all by default, or one instalment).",
    )
    reason_id = fields.Many2one(
        comodel_name="debt.recovery.dispute.reason",
        string="Reason",
        required=True,
        tracking=True,
    )
    note = fields.Html()
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Resolved By",
        default=lambda self: self.env.user,
        tracking=True,
        help="Who investigates and resolves the dispute.",
    )
    state = fields.Selection(
        selection=[
            ("open", "Open"),
            ("resolved", "Resolved for the Customer"),
            ("rejected", "Rejected"),
        ],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    date = fields.Date(
        string="Opened On", required=True, default=fields.Date.context_today, readonly=True
    )
    date_closed = fields.Date(string="Closed On", readonly=True, tracking=True)
    credit_note_id = fields.Many2one(
        comodel_name="account.move",
        string="Credit Note",
        check_company=True,
        domain="[('move_type', '=', 'out_refund'), ('commercial_partner_id', '=', partner_id)]",
        tracking=True,
    )
    resolution_note = fields.Text()
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_disputed = fields.Monetary(
        compute="_compute_amount_disputed",
        store=True,
        currency_field="currency_id",
        help="Open amount of the disputed items when the dispute was opened.",
    )
    age_days = fields.Integer(string="Age (Days)", compute="_compute_age_days")

    # === COMPUTE METHODS === #
    @api.depends("move_id", "reason_id")
    def _compute_name(self):
        for dispute in self:
            dispute.name = f"{dispute.move_id.name or ''} - {dispute.reason_id.name or ''}"

    @api.depends("move_id")
    def _compute_partner_id(self):
        for dispute in self:
            dispute.partner_id = dispute.move_id.commercial_partner_id

    @api.depends("move_id")
    def _compute_move_line_ids(self):
        for dispute in self:
            dispute.move_line_ids = dispute.move_id.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable" and not line.reconciled
            )

    @api.depends("move_line_ids")
    def _compute_amount_disputed(self):
        for dispute in self:
            if dispute.state == "open":
                dispute.amount_disputed = sum(
                    dispute.move_line_ids.mapped("amount_residual_currency")
                )

    @api.depends("date", "date_closed")
    @api.depends_context("tz")
    def _compute_age_days(self):
        today = fields.Date.context_today(self)
        for dispute in self:
            end = dispute.date_closed or today
            dispute.age_days = (end - dispute.date).days if dispute.date else 0

    # === CONSTRAINT METHODS === #
    @api.constrains("move_line_ids", "move_id", "state")
    def _check_items(self):
        for dispute in self.filtered(lambda d: d.state == "open"):
            lines = dispute.move_line_ids
            if not lines:
                raise ValidationError(
                    self.env._(
                        "There is nothing open to dispute on %(move)s.", move=dispute.move_id.name
                    )
                )
            if lines.move_id != dispute.move_id:
                raise ValidationError(
                    self.env._("Only open receivable items of the invoice itself can be disputed.")
                )
            dispute._debt_check_pause_items(lines)

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        disputes = super().create(vals_list)
        for dispute in disputes:
            dispute._debt_start_pause(
                dispute.move_line_ids,
                self.env._(
                    "%(move)s disputed (%(reason)s): reminders paused for %(amount)s.",
                    move=dispute.move_id.name,
                    reason=dispute.reason_id.name,
                    amount=format_amount(self.env, dispute.amount_disputed, dispute.currency_id),
                ),
            )
        return disputes

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(self.env._("A dispute is a record: close it instead of deleting it."))

    # === ACTION METHODS === #
    def action_resolve(self):
        """Resolved in the customer's favour: requires the credit note."""
        self._debt_ensure_workflow_access()
        for dispute in self:
            dispute._ensure_open()
            if not dispute.credit_note_id:
                raise UserError(
                    self.env._(
                        "Link the credit note that settles the dispute %(dispute)s first.",
                        dispute=dispute.display_name,
                    )
                )
        self._close("resolved")

    def action_reject(self):
        """Rejected: the escalation resumes where it stopped."""
        self._debt_ensure_workflow_access()
        for dispute in self:
            dispute._ensure_open()
        self._close("rejected")

    # === BUSINESS METHODS === #
    def _ensure_open(self):
        if self.state != "open":
            raise UserError(
                self.env._(
                    "The dispute %(name)s is %(state)s already: only an open dispute can be "
                    "resolved or rejected.",
                    name=self.name,
                    state=dict(self._fields["state"]._description_selection(self.env))[
                        self.state
                    ].lower(),
                )
            )

    def _close(self, state):
        today = fields.Date.context_today(self)
        outcome = dict(self._fields["state"]._description_selection(self.env))[state].lower()
        for dispute in self:
            dispute._debt_end_pause(
                state,
                self.env._(
                    "Dispute on %(move)s %(outcome)s.", move=dispute.move_id.name, outcome=outcome
                ),
                (today - dispute.date).days,
            )
