from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount


class DebtRecoveryPromise(models.Model):
    _name = "debt.recovery.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread"]
    _order = "date_promised desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, index=True, default=lambda s: s.env.company
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        domain="[('parent_id', '=', False)]",
    )
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
            lines = promise.move_line_ids
            if not lines._debt_are_open_items_of(promise.partner_id):
                raise ValidationError(
                    self.env._("A promise covers open receivable items of its own customer only.")
                )
            if len(lines.currency_id) > 1:
                raise ValidationError(self.env._("A promise covers items in one currency."))
            taken = lines.debt_promise_id - promise
            if taken:
                raise ValidationError(
                    self.env._(
                        "These items are already promised in %(promise)s.",
                        promise=taken[0].display_name,
                    )
                )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        promises = super().create(vals_list)
        for promise in promises:
            promise.amount_residual_start = sum(
                promise.move_line_ids.mapped("amount_residual_currency")
            )
            promise.move_line_ids.sudo().write({"debt_promise_id": promise.id})
            case = promise.move_line_ids.debt_case_id[:1]
            body = self.env._(
                "Promise to pay %(amount)s by %(date)s, taken by %(user)s.",
                amount=format_amount(self.env, promise.amount, promise.currency_id),
                date=fields.Date.to_string(promise.date_promised),
                user=promise.user_id.name or "",
            )
            (case or promise.partner_id.sudo()).message_post(
                body=body, subtype_xmlid="mail.mt_note"
            )
            if case and not case._debt_has_unpaused_overdue():
                case._pause_stage("promise")
        return promises

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(self.env._("A promise to pay is a record: it cannot be deleted."))

    # === BUSINESS METHODS === #
    @api.model
    def _cron_check_promises(self):
        self.search([("state", "=", "open")])._check_kept_or_broken()

    def _check_kept_or_broken(self):
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
        self.move_line_ids._debt_end_pause(self, (today - self.date).days)
        self.write({"state": state, "date_closed": today})
        case = self.move_line_ids.debt_case_id[:1]
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
        thread = case or self.partner_id.sudo()
        thread.message_post(body=body, subtype_xmlid="mail.mt_note")
        if case:
            case._resume_stage("promise")
            if state == "broken":
                case.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Promise to pay broken"),
                    note=body,
                    user_id=(case.user_id or self.user_id or self.env.user).id,
                )
