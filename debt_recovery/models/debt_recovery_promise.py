from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount

# A promise broken months after its date is no promise.
MAX_GRACE_DAYS = 365


class DebtRecoveryPromise(models.Model):
    _name = "debt.recovery.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread", "debt.recovery.pause.mixin", "debt.recovery.number.mixin"]
    _order = "date_promised desc, id desc"
    _debt_pause_kind = "promise"
    _debt_workflow_fields = ("state", "date_closed", "amount_residual_start")

    # === FIELDS === #
    partner_id = fields.Many2one(required=True, domain="[('parent_id', '=', False)]")
    move_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        string="Promised Items",
        required=True,
        check_company=True,
        domain="[('partner_id', 'child_of', partner_id),"
        " ('account_type', '=', 'asset_receivable'), ('reconciled', '=', False),"
        " ('parent_state', '=', 'posted'), ('amount_residual', '>', 0)]",
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
    )
    amount = fields.Monetary(required=True, currency_field="currency_id", tracking=True)
    amount_residual_start = fields.Monetary(
        string="Open When Promised", currency_field="currency_id", readonly=True
    )
    amount_paid = fields.Monetary(
        string="Paid Since", compute="_compute_amount_paid", currency_field="currency_id"
    )
    date = fields.Date(
        string="Taken On", required=True, default=fields.Date.context_today, readonly=True
    )
    date_promised = fields.Date(string="Promised For", required=True, tracking=True)
    date_signed = fields.Date(
        string="Signed in Writing On",
        tracking=True,
        help="The day the customer signed a written acknowledgement of the debt (a "
        "signed letter or form). Any promise restarts the limitation period in "
        "Germany, France, the Netherlands and Spain; in the United Kingdom only a "
        "signed written one does (Limitation Act 1980 s. 30), from this day.",
    )
    grace_days = fields.Integer(default=3, help="Days after the promised date before it breaks.")
    user_id = fields.Many2one(
        comodel_name="res.users", string="Taken By", default=lambda s: s.env.user, tracking=True
    )
    state = fields.Selection(
        selection=[("open", "Open"), ("kept", "Kept"), ("broken", "Broken")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    date_closed = fields.Date(readonly=True)
    note = fields.Text()

    # === COMPUTE METHODS === #
    @api.depends("partner_id", "date_promised")
    def _compute_name(self):
        for promise in self:
            promise.name = (
                f"{promise.partner_id.display_name or ''} - {promise.date_promised or ''}"
            )

    @api.depends("move_line_ids")
    def _compute_currency_id(self):
        for promise in self:
            promise.currency_id = (
                promise.move_line_ids.currency_id[:1] or promise.company_id.currency_id
            )

    @api.depends("move_line_ids.amount_residual_currency", "amount_residual_start")
    def _compute_amount_paid(self):
        for promise in self:
            residual = sum(promise.move_line_ids.mapped("amount_residual_currency"))
            promise.amount_paid = max(promise.amount_residual_start - residual, 0.0)

    # === CONSTRAINT METHODS === #
    @api.constrains("amount", "date_promised", "grace_days", "move_line_ids", "partner_id")
    def _check_promise(self):
        today = fields.Date.context_today(self)
        for promise in self.filtered(lambda p: p.state == "open"):
            if promise.currency_id.compare_amounts(promise.amount, 0.0) <= 0:
                raise ValidationError(self.env._("A promise to pay is for a positive amount."))
            if promise.date_promised < promise.date or promise.date_promised < today:
                raise ValidationError(self.env._("A promise to pay cannot be for a past date."))
            if promise.grace_days < 0:
                raise ValidationError(self.env._("The grace period cannot be negative."))
            if promise.grace_days > MAX_GRACE_DAYS:
                raise ValidationError(
                    self.env._("The grace period cannot exceed %(max)s days.", max=MAX_GRACE_DAYS)
                )
            lines = promise.move_line_ids
            if len(lines.currency_id) > 1:
                raise ValidationError(self.env._("A promise covers items in one currency."))
            # What was open when it was promised (now, at creation).
            open_amount = promise.amount_residual_start or sum(
                lines.mapped("amount_residual_currency")
            )
            if promise.currency_id.compare_amounts(promise.amount, open_amount) > 0:
                raise ValidationError(
                    self.env._(
                        "A promise to pay %(amount)s is more than the %(open)s open on its items.",
                        amount=format_amount(self.env, promise.amount, promise.currency_id),
                        open=format_amount(self.env, open_amount, promise.currency_id),
                    )
                )
            promise._debt_check_pause_items(lines)

    @api.constrains("date_signed", "date")
    def _check_date_signed(self):
        today = fields.Date.context_today(self)
        for promise in self.filtered("date_signed"):
            if promise.date_signed > today or promise.date_signed < promise.date:
                raise ValidationError(
                    self.env._(
                        "A promise is signed on a day between the day it was taken and today."
                    )
                )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        promises = super().create(vals_list)
        for promise in promises:
            promise._debt_write_state(
                {
                    "amount_residual_start": sum(
                        promise.move_line_ids.mapped("amount_residual_currency")
                    )
                }
            )
            promise._debt_start_pause(
                promise.move_line_ids,
                self.env._(
                    "Promise to pay %(amount)s by %(date)s, taken by %(user)s.",
                    amount=format_amount(self.env, promise.amount, promise.currency_id),
                    date=fields.Date.to_string(promise.date_promised),
                    user=promise.user_id.name or "",
                ),
            )
        return promises

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(self.env._("A promise to pay is a record: it cannot be deleted."))

    # === ACTION METHODS === #
    def action_mark_broken(self):
        """The customer says it will not pay as promised: reminders resume now."""
        self._debt_ensure_workflow_access()
        today = fields.Date.context_today(self)
        for promise in self:
            if promise.state != "open":
                raise UserError(
                    self.env._(
                        "The promise %(name)s is closed already: only an open promise can be "
                        "marked broken.",
                        name=promise.name,
                    )
                )
            promise._close("broken", today)

    # === BUSINESS METHODS === #
    @api.model
    def _cron_check_promises(self):
        self.search([("state", "=", "open")])._close_due_promises()

    def _close_due_promises(self):
        """Close the promises that are kept (paid) or broken (past the promised
        date and its grace days)."""
        today = fields.Date.context_today(self)
        kept = self.filtered(
            lambda p: p.currency_id.compare_amounts(p.amount_paid, p.amount) >= 0
            or all(p.move_line_ids.mapped("reconciled"))
        )
        broken = (self - kept).filtered(
            lambda p: today > p.date_promised + timedelta(days=p.grace_days)
        )
        for promise, state in [(p, "kept") for p in kept] + [(p, "broken") for p in broken]:
            promise._close(state, today)

    def _close(self, state, today):
        self.ensure_one()
        if state == "kept":
            body = self.env._(
                "Promise kept: %(amount)s paid.",
                amount=format_amount(self.env, self.amount_paid, self.currency_id),
            )
        else:
            body = self.env._(
                "Promise broken: %(paid)s of %(amount)s paid. Reminders resume.",
                paid=format_amount(self.env, self.amount_paid, self.currency_id),
                amount=format_amount(self.env, self.amount, self.currency_id),
            )
        self._debt_end_pause(
            state,
            body,
            (today - self.date).days,
            alert=self.env._("Promise to pay broken") if state == "broken" else None,
        )
