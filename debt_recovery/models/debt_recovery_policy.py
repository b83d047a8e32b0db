from dataclasses import dataclass

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.late_payment import RULES, Rule
from ..tools.limitation import RULES as LIMITATION_RULES
from .debt_recovery_level import MAX_DAYS

# Points a year over a reference rate; beyond it, a typing error.
MAX_MARGIN = 50.0


@dataclass(frozen=True)
class Ladder:
    """A policy's levels in order, with their delays as plain values: the
    escalation places tens of thousands of items on it.

    Courtesy levels (``days`` <= 0) are for items not yet overdue; an item is
    overdue from the day after its due date and then only climbs the overdue
    levels (``days`` > 0).
    """

    levels: tuple
    days: tuple
    gaps: tuple
    index: dict
    paced: bool
    min_days_between: int
    level_model: models.BaseModel

    def next_level(self, today, date_maturity, current_id, level_date):
        """The level an item due on ``date_maturity`` reaches today, or None;
        ``current_id`` is the last level it was sent, on ``level_date``."""
        age = (today - date_maturity).days
        if current_id in self.index:
            current = self.index[current_id]
        elif current_id:
            # The policy changed: place the item by the age of its last level.
            current_days = self.level_model.browse(current_id).days
            current = sum(1 for day in self.days if day <= current_days) - 1
        else:
            current = -1
        reached = [index for index, day in enumerate(self.days) if day <= age]
        if age <= 0:
            # Not overdue yet: the latest courtesy level reached, once.
            target = reached[-1] if reached else None
        else:
            overdue = [index for index in reached if self.days[index] > 0]
            if not overdue:
                return None
            target = overdue[-1]
            if self.paced:
                # The first overdue level first (whatever the age), then one
                # level up per communication.
                target = min(target, max(current + 1, overdue[0]))
        if target is None or target <= current:
            return None
        if current_id and level_date and (today - level_date).days < self.gaps[target]:
            return None
        return self.levels[target]


class DebtRecoveryPolicy(models.Model):
    _name = "debt.recovery.policy"
    _inherit = ["debt.recovery.number.mixin"]
    _description = "Recovery Policy"
    _order = "company_id, is_default desc, name"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(required=True, translate=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    active = fields.Boolean(default=True)
    is_default = fields.Boolean(
        string="Default Policy",
        help="Applies to every customer of the company who has no policy of their own.",
    )
    escalation_mode = fields.Selection(
        selection=[
            ("paced", "First reminder first, one level at a time"),
            ("age", "Straight to the level of the age"),
        ],
        string="Escalation",
        required=True,
        default="paced",
        help="Paced: the first communication a customer receives is the first overdue "
        "reminder, whatever the age of its items, then at most one level up per "
        "communication. Straight to the level of the age: an item gets the level its "
        "age calls for, even as the first contact.",
    )
    min_days_between = fields.Integer(
        string="Minimum Days Between Communications",
        default=7,
        help="At least this many days between two communications to the same customer "
        "(courtesy reminders aside).",
    )
    net_credits = fields.Boolean(
        string="Deduct Open Credits",
        default=True,
        help="Open credit notes, unapplied payments and advances of the customer in the "
        "same company and currency are deducted from what a communication claims.",
    )
    interest_rule = fields.Selection(
        selection=[
            ("company", "The Law of the Company's Country"),
            ("eu", "EU Directive 2011/7/EU"),
            ("fr", "France (Code de commerce L441-10)"),
            ("de", "Germany (§ 288 BGB)"),
            ("nl", "Netherlands (art. 6:119a BW)"),
            ("es", "Spain (Ley 3/2004)"),
            ("uk", "United Kingdom (Late Payment Act 1998)"),
            ("contract", "Our Terms: a Reference Rate plus a Margin"),
            ("none", "No Interest or Compensation"),
        ],
        string="Late-Payment Law",
        required=True,
        default="company",
        help="The statutory late-payment interest and fixed compensation the letters "
        "state and accrue: by default those of the company's country (the EU "
        "directive for a country without its own rule). Our Terms: the reference rate "
        "and margin set below, floating by half-year, as the customer's contract or "
        "general terms of sale stipulate. The limitation periods always follow the "
        "company's country, unless a country's law is chosen here.",
    )
    interest_rate_kind_id = fields.Many2one(
        comodel_name="debt.recovery.reference.rate.kind",
        string="Reference Rate",
        help="Our terms: the reference rate in force on 1 January (first half-year) and "
        "on 1 July (second half-year).",
    )
    interest_margin = fields.Float(
        string="Margin (Points)",
        digits=(5, 2),
        help="Our terms: percentage points a year over the reference rate.",
    )
    interest_compensation = fields.Monetary(
        string="Fixed Compensation",
        currency_field="currency_id",
        help="Our terms: the fixed compensation for recovery costs of each late invoice, "
        "in the company's currency (converted into the invoice's).",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    interest_terms = fields.Text(
        string="Legal Basis",
        translate=True,
        help="Our terms: the paragraph the formal notice and the final demand state "
        '(in each language), e.g. "Under article 7 of our general terms of sale, '
        'late-payment interest is due at the ECB rate plus 7 points a year." Empty: '
        "a sentence naming the reference rate, the margin and the compensation.",
    )
    allocate_costs_first = fields.Boolean(
        string="Costs, then Interest, then Principal",
        help="§ 367 BGB: a payment that does not cover everything owed settles the "
        "costs first (compensation, fees), then the interest, then the principal: "
        "the customer's open interest and cost invoices are settled before its other "
        "invoices when a payment is matched.",
    )
    level_ids = fields.One2many(
        comodel_name="debt.recovery.level",
        inverse_name="policy_id",
        string="Levels",
        copy=True,
    )
    level_count = fields.Integer(compute="_compute_level_count")
    description = fields.Text(translate=True)
    writeoff_small_balances = fields.Boolean(
        string="Write Off Small Balances",
        help="Every night, a customer whose whole open balance in the company is below "
        "the amount set here, with no open credit and every item overdue for the days "
        "set here, is written off (reason: uneconomic to pursue), without approval; the "
        "case says so.",
    )
    writeoff_small_amount = fields.Monetary(
        string="Small Balance Below",
        currency_field="company_currency_id",
        help="In company currency.",
    )
    writeoff_small_days = fields.Integer(
        string="Small Balance Overdue For (Days)",
        default=60,
        help="Only items overdue for at least this many days are written off.",
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )

    # === COMPUTE METHODS === #
    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    # === CONSTRAINT METHODS === #
    @api.constrains("is_default", "company_id", "active")
    def _check_one_default(self):
        companies = self.filtered("is_default").company_id
        if not companies:
            return
        for company, count in self._read_group(
            [("is_default", "=", True), ("company_id", "in", companies.ids)],
            ["company_id"],
            ["__count"],
        ):
            if count > 1:
                raise ValidationError(
                    self.env._(
                        "%(company)s can have only one default recovery policy.",
                        company=company.display_name,
                    )
                )

    @api.constrains("min_days_between")
    def _check_min_days_between(self):
        if any(policy.min_days_between < 0 for policy in self):
            raise ValidationError(
                self.env._("The minimum number of days between communications cannot be negative.")
            )
        if any(policy.min_days_between > MAX_DAYS for policy in self):
            raise ValidationError(
                self.env._(
                    "The minimum number of days between communications cannot exceed %(max)s.",
                    max=MAX_DAYS,
                )
            )

    @api.constrains(
        "interest_rule", "interest_rate_kind_id", "interest_margin", "interest_compensation"
    )
    def _check_interest_terms(self):
        for policy in self:
            if policy.interest_margin < 0 or policy.interest_compensation < 0:
                raise ValidationError(
                    self.env._(
                        "The margin and the fixed compensation of %(policy)s cannot be "
                        "negative.",
                        policy=policy.display_name,
                    )
                )
            if policy.interest_margin > MAX_MARGIN:
                raise ValidationError(
                    self.env._(
                        "A margin of more than %(max)s points a year is a typing error.",
                        max=MAX_MARGIN,
                    )
                )
            if policy.interest_rule == "contract" and not policy.interest_rate_kind_id:
                raise ValidationError(
                    self.env._(
                        "%(policy)s charges interest on its own terms: choose their reference "
                        "rate.",
                        policy=policy.display_name,
                    )
                )

    @api.constrains("level_ids")
    def _check_levels(self):
        self.level_ids._check_order()

    @api.constrains("writeoff_small_balances", "writeoff_small_amount", "writeoff_small_days")
    def _check_writeoff_small(self):
        for policy in self:
            if policy.writeoff_small_amount < 0 or policy.writeoff_small_days < 0:
                raise ValidationError(
                    self.env._(
                        "The small balance and its days overdue cannot be negative "
                        "(%(policy)s).",
                        policy=policy.display_name,
                    )
                )
            if policy.writeoff_small_days > MAX_DAYS:
                raise ValidationError(
                    self.env._(
                        "The days overdue of a small balance cannot exceed %(max)s.",
                        max=MAX_DAYS,
                    )
                )
            if policy.writeoff_small_balances and not policy.writeoff_small_amount:
                raise ValidationError(
                    self.env._(
                        "%(policy)s writes off small balances: say below which amount.",
                        policy=policy.display_name,
                    )
                )

    # === BUSINESS METHODS === #
    def _get_ladder(self):
        """The policy's ``Ladder``."""
        self.ensure_one()
        levels = self.level_ids.sorted(lambda lv: (lv.sequence, lv.id))
        return Ladder(
            levels=tuple(levels),
            days=tuple(levels.mapped("days")),
            gaps=tuple(levels.mapped("min_days_since_previous")),
            index={level.id: index for index, level in enumerate(levels)},
            paced=self.escalation_mode == "paced",
            min_days_between=self.min_days_between,
            level_model=self.env["debt.recovery.level"],
        )

    def _debt_late_payment_rule(self, company):
        """The ``late_payment.Rule`` of the policy in ``company`` (that of the
        company's country by default, that of our terms, a country's), or
        None when the policy claims neither interest nor compensation. An
        empty policy means the company's default."""
        code = self.interest_rule if self else "company"
        if code == "none":
            return None
        if code == "contract":
            self.ensure_one()
            fixed = self.interest_compensation
            return Rule(
                "contract",
                self.interest_rate_kind_id.code,
                self.interest_margin,
                margin_consumer=self.interest_margin,
                compensation_currency=self.currency_id.name,
                compensation=lambda amount: fixed,
                compensation_consumer=lambda amount: fixed,
            )
        if code == "company":
            code = company._debt_jurisdiction()
        return RULES[code]

    def _debt_limitation_code(self, company):
        """The limitation rule (tools/limitation.py) of the policy's items in
        ``company``: a country's law chosen on the policy, else the
        company's country's."""
        code = self.interest_rule if self else "company"
        if code in LIMITATION_RULES and code != "eu":
            return code
        return company._debt_jurisdiction()

    @api.model
    def _get_company_defaults(self, companies):
        """{company: default policy} for ``companies``.

        A company without a default policy gets a copy of the shipped one.
        """
        policies = self.search([("is_default", "=", True), ("company_id", "in", companies.ids)])
        defaults = {policy.company_id: policy for policy in policies}
        missing = companies.filtered(lambda c: c not in defaults)
        # sudo: the shipped policy belongs to the main company; it is copied as
        # configuration for a company that has none, whoever runs the escalation.
        template = self.sudo().env.ref("debt_recovery.policy_default", raise_if_not_found=False)
        if template and missing:
            for company in missing:
                policy = template.copy({"company_id": company.id, "name": template.name})
                defaults[company] = policy.sudo(False)
        return defaults
