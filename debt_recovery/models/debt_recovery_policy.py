from odoo import api, fields, models
from odoo.exceptions import ValidationError


class DebtRecoveryPolicy(models.Model):
    _name = "debt.recovery.policy"
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
    climb_one_level = fields.Boolean(
        string="Climb One Level at a Time",
        help="An item first seen when already very late gets the first level it has not "
        "had, then the next ones on later runs, instead of going straight to the level "
        "its age calls for.",
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
    level_ids = fields.One2many(
        comodel_name="debt.recovery.level",
        inverse_name="policy_id",
        string="Levels",
        copy=True,
    )
    level_count = fields.Integer(compute="_compute_level_count")
    description = fields.Text(translate=True)

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

    @api.constrains("level_ids")
    def _check_levels(self):
        self.level_ids._check_order()

    # === BUSINESS METHODS === #
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
