from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Ten years: beyond it, a number of days is a typing error.
MAX_DAYS = 3650


class DebtRecoveryLevel(models.Model):
    _name = "debt.recovery.level"
    _inherit = ["debt.recovery.number.mixin"]
    _description = "Recovery Level"
    _order = "policy_id, sequence, days, id"
    _check_company_auto = True

    # === FIELDS === #
    policy_id = fields.Many2one(
        comodel_name="debt.recovery.policy",
        string="Policy",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    days = fields.Integer(
        string="Days After Due Date",
        required=True,
        help="The level applies to an item this many days after its due date; "
        "a negative number sends a courtesy reminder before the due date.",
    )
    min_days_since_previous = fields.Integer(
        string="Minimum Days Since Previous Level",
        help="Wait at least this many days after the item's previous level.",
    )
    stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Moves Case To",
        help="The case moves to this stage when the level is sent (never backwards).",
    )
    channel_email = fields.Boolean(string="Email")
    channel_letter = fields.Boolean(string="Printed Letter")
    channel_phone = fields.Boolean(string="Phone Call")
    mail_template_id = fields.Many2one(
        comodel_name="mail.template",
        string="Email Template",
        domain="[('model', '=', 'debt.recovery.communication')]",
    )
    report_id = fields.Many2one(
        comodel_name="ir.actions.report",
        string="Letter",
        domain="[('model', '=', 'debt.recovery.communication')]",
    )
    attach_invoices = fields.Boolean(
        help="Attach the PDF of each invoice listed to the email.",
    )
    needs_approval = fields.Boolean(
        help="Communications of this level wait in the collectors' approval queue.",
    )
    fee_amount = fields.Monetary(
        string="Fee",
        currency_field="currency_id",
        help="Fee charged for this level, in company currency.",
    )
    fee_percent = fields.Float(
        string="Fee (% of the Amount Claimed)",
        digits=(5, 2),
        help="A fee in percent of the net amount the communication claims, added to "
        "the fixed fee, within the minimum and maximum below.",
    )
    fee_min = fields.Monetary(
        string="Minimum Fee",
        currency_field="currency_id",
        help="With a percentage: the fee is at least this (company currency).",
    )
    fee_max = fields.Monetary(
        string="Maximum Fee",
        currency_field="currency_id",
        help="With a percentage: the fee is at most this (0: no maximum).",
    )
    min_amount = fields.Monetary(
        string="Minimum Overdue Amount",
        currency_field="currency_id",
        help="Skip this level when the customer's overdue amount is below it (tolerance).",
    )
    letter_title = fields.Char(translate=True)
    letter_body = fields.Html(
        string="Letter Wording",
        translate=True,
        sanitize=True,
        help="The level's wording, including its legal wording, printed in the letter.",
    )
    call_script = fields.Text(translate=True)
    payment_days = fields.Integer(
        string="Payment Deadline (Days)",
        help="The letter asks for payment by this many days after the day it leaves, "
        "printed as a date (0: no deadline).",
    )
    charge_late_payment = fields.Boolean(
        string="Charge Interest and Costs",
        help="When a communication of this level leaves, the late-payment interest, "
        "compensation and fees accrued are charged to the customer (one invoice).",
    )
    legal_notice = fields.Boolean(
        string="Statutory Notice",
        help="The letter states the late-payment law of the company's country: the "
        "statute, the interest rate and the fixed compensation for recovery costs "
        "(formal notice and final demand).",
    )
    signature = fields.Html(
        translate=True,
        sanitize=True,
        help="Who signs the letters of this level (a name, a title, a department). "
        "Empty: the customer's collector signs.",
    )

    # === CONSTRAINT METHODS === #
    @api.constrains("name", "channel_email", "channel_letter", "channel_phone", "mail_template_id")
    def _check_channels(self):
        for level in self:
            if not (level.channel_email or level.channel_letter or level.channel_phone):
                raise ValidationError(
                    self.env._(
                        "The level %(level)s needs at least one channel: email, letter or phone.",
                        level=level.name,
                    )
                )
            if level.channel_email and not level.mail_template_id:
                raise ValidationError(
                    self.env._(
                        "The email level %(level)s needs an email template.", level=level.name
                    )
                )

    @api.constrains(
        "name",
        "fee_amount",
        "fee_percent",
        "fee_min",
        "fee_max",
        "min_amount",
        "min_days_since_previous",
        "days",
        "payment_days",
    )
    def _check_amounts(self):
        for level in self:
            if abs(level.days) > MAX_DAYS or level.min_days_since_previous > MAX_DAYS:
                raise ValidationError(
                    self.env._(
                        "The days of the level %(level)s cannot exceed %(max)s.",
                        level=level.name,
                        max=MAX_DAYS,
                    )
                )
            if not 0 <= level.payment_days <= MAX_DAYS:
                raise ValidationError(
                    self.env._(
                        "The payment deadline of the level %(level)s must be between 0 and "
                        "%(max)s days.",
                        level=level.name,
                        max=MAX_DAYS,
                    )
                )
            if not 0 <= level.fee_percent <= 100 or level.fee_min < 0 or level.fee_max < 0:
                raise ValidationError(
                    self.env._(
                        "The fee of the level %(level)s: a percentage between 0 and 100, "
                        "a minimum and a maximum that are not negative.",
                        level=level.name,
                    )
                )
            if level.fee_max and level.fee_max < level.fee_min:
                raise ValidationError(
                    self.env._(
                        "The maximum fee of the level %(level)s is below its minimum.",
                        level=level.name,
                    )
                )
            if level.fee_amount < 0 or level.min_amount < 0:
                raise ValidationError(
                    self.env._("The fee and the minimum amount of a level cannot be negative.")
                )
            if level.min_days_since_previous < 0:
                raise ValidationError(
                    self.env._(
                        "The minimum number of days since the previous level cannot be negative."
                    )
                )

    @api.constrains("sequence", "days", "policy_id")
    def _check_order(self):
        for policy in self.policy_id:
            levels = policy.level_ids.sorted(lambda lv: (lv.sequence, lv.id))
            days = levels.mapped("days")
            if any(later <= earlier for earlier, later in zip(days, days[1:], strict=False)):
                raise ValidationError(
                    self.env._(
                        "The levels of %(policy)s overlap or are out of order: each level must "
                        "come strictly more days after the due date than the one before it.",
                        policy=policy.display_name,
                    )
                )

    # === BUSINESS METHODS === #
    def _fee_for(self, claimed):
        """The level's fee for a communication claiming ``claimed`` (company
        currency): the fixed fee plus the percentage, the latter within the
        minimum and the maximum."""
        self.ensure_one()
        fee = self.fee_amount
        if self.fee_percent:
            share = max(claimed, 0.0) * self.fee_percent / 100.0
            share = max(share, self.fee_min)
            if self.fee_max:
                share = min(share, self.fee_max)
            fee += share
        return self.currency_id.round(fee)
