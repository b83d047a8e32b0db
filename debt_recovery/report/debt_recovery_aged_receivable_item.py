from odoo import api, fields, models

BUCKETS = ("b0_not_due", "b1", "b2", "b3", "b4", "b5_older", "b6_credit")


def bucket_labels(periods, env):
    """[(bucket, label)] in report order for ``periods`` (4 day counts)."""
    p1, p2, p3, p4 = periods
    return [
        ("b0_not_due", env._("Not Due")),
        ("b1", env._("1-%(to)s Days", to=p1)),
        ("b2", env._("%(since)s-%(to)s Days", since=p1 + 1, to=p2)),
        ("b3", env._("%(since)s-%(to)s Days", since=p2 + 1, to=p3)),
        ("b4", env._("%(since)s-%(to)s Days", since=p3 + 1, to=p4)),
        ("b5_older", env._("Older")),
        ("b6_credit", env._("Credits")),
    ]


class DebtRecoveryAgedReceivableItem(models.TransientModel):
    """One receivable item open at the report's date, with its bucket: the
    rows the ageing pivot groups (a cell opens its items)."""

    _name = "debt.recovery.aged.receivable.item"
    _description = "Aged Receivable Item"
    _order = "partner_id, date_maturity, id"
    _rec_name = "move_id"

    # === FIELDS === #
    report_id = fields.Many2one(
        comodel_name="debt.recovery.aged.receivable",
        required=True,
        index=True,
        ondelete="cascade",
    )
    move_line_id = fields.Many2one(
        comodel_name="account.move.line", string="Journal Item", readonly=True
    )
    move_id = fields.Many2one(comodel_name="account.move", string="Entry", readonly=True)
    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one(comodel_name="res.company", readonly=True)
    company_currency_id = fields.Many2one(
        comodel_name="res.currency", string="Company Currency", readonly=True
    )
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    user_id = fields.Many2one(comodel_name="res.users", string="Collector", readonly=True)
    stage_id = fields.Many2one(comodel_name="debt.recovery.stage", string="Stage", readonly=True)
    country_id = fields.Many2one(comodel_name="res.country", string="Country", readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(selection="_selection_bucket", readonly=True)
    amount = fields.Monetary(
        string="Amount Due",
        currency_field="company_currency_id",
        readonly=True,
        help="What the item still owed at the report's date, in company currency "
        "(negative: a credit, netted).",
    )
    amount_currency = fields.Monetary(
        string="Amount in Currency", currency_field="currency_id", readonly=True
    )

    # === DEFAULT METHODS === #
    @api.model
    def _selection_bucket(self):
        periods = self.env.context.get("debt_aging_periods") or (30, 60, 90, 120)
        try:
            periods = tuple(int(day) for day in periods)[:4]
        except (TypeError, ValueError):
            periods = (30, 60, 90, 120)
        if len(periods) != 4:
            periods = (30, 60, 90, 120)
        return bucket_labels(periods, self.env)

    # === ACTION METHODS === #
    def action_open_item(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.move_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
