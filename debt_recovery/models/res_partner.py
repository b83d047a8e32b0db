from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_amount

ACCOUNT_GROUPS = "account.group_account_invoice,account.group_account_readonly"


class ResPartner(models.Model):
    _inherit = "res.partner"

    type = fields.Selection(
        selection_add=[("collections", "Collections Address")],
        ondelete={"collections": "set default"},
    )
    debt_policy_id = fields.Many2one(
        comodel_name="debt.recovery.policy",
        string="Recovery Policy",
        company_dependent=True,
        domain="[('company_id', '=', current_company_id)]",
        help="Leave empty to use the company's default recovery policy.",
    )
    debt_no_reminder = fields.Boolean(
        string="No Reminders",
        company_dependent=True,
        help="Never send this customer recovery reminders.",
    )
    debt_do_not_contact = fields.Boolean(
        string="Do Not Contact",
        company_dependent=True,
        help="The escalation contacts this customer through no channel.",
    )
    debt_quiet_until = fields.Date(
        string="Quiet Until",
        company_dependent=True,
        help="No recovery communication before this date (quiet period).",
    )
    debt_case_ids = fields.One2many(
        comodel_name="debt.recovery.case",
        inverse_name="partner_id",
        string="Recovery Cases",
        groups=ACCOUNT_GROUPS,
    )
    debt_case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Open Recovery Case",
        compute="_compute_debt_case_id",
        groups=ACCOUNT_GROUPS,
        help="The customer's open recovery case in the current company.",
    )
    debt_stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Recovery Stage",
        compute="_compute_debt_case_id",
        search="_search_debt_stage_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_case_count = fields.Integer(
        string="Recovery Case Count",
        compute="_compute_debt_case_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_promise_kept_count = fields.Integer(
        string="Promises Kept",
        compute="_compute_debt_promise_counts",
        groups=ACCOUNT_GROUPS,
    )
    debt_promise_broken_count = fields.Integer(
        string="Promises Broken",
        compute="_compute_debt_promise_counts",
        groups=ACCOUNT_GROUPS,
    )
    debt_exposure = fields.Monetary(
        string="Credit Exposure",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
        help="Open receivables, draft invoices and (with Sales) confirmed orders not yet "
        "invoiced, in company currency.",
    )
    debt_credit_available = fields.Monetary(
        string="Available Credit",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_credit_usage = fields.Float(
        string="Credit Limit Used (%)",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
    )
    debt_manual_hold = fields.Boolean(
        string="Held by Hand",
        company_dependent=True,
        readonly=True,
        groups=ACCOUNT_GROUPS,
    )
    debt_hold_override = fields.Boolean(
        string="One-off Override Granted",
        company_dependent=True,
        readonly=True,
        groups=ACCOUNT_GROUPS,
    )
    debt_hold_reason = fields.Char(
        string="Credit Hold",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
        help="Why new invoices to this customer are refused (empty: not on hold).",
    )
    debt_risk_id = fields.Many2one(
        comodel_name="debt.recovery.risk",
        string="Payment Risk",
        compute="_compute_debt_risk",
        groups=ACCOUNT_GROUPS,
    )
    debt_risk_score = fields.Integer(
        string="Risk Score", compute="_compute_debt_risk", groups=ACCOUNT_GROUPS
    )
    debt_risk_band = fields.Selection(
        selection=[("low", "Low"), ("medium", "Medium"), ("high", "High")],
        string="Risk Band",
        compute="_compute_debt_risk",
        groups=ACCOUNT_GROUPS,
    )
    debt_risk_reasons = fields.Text(
        string="Risk Reasons", compute="_compute_debt_risk", groups=ACCOUNT_GROUPS
    )
    debt_currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
    )
    debt_amount_due = fields.Monetary(
        string="Receivable Due",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_amount_overdue = fields.Monetary(
        string="Receivable Overdue",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
    )
    debt_oldest_overdue_days = fields.Integer(
        string="Oldest Days Overdue",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
    )
    debt_overdue_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Overdue Invoices",
        compute="_compute_debt_amounts",
        groups=ACCOUNT_GROUPS,
    )

    # === COMPUTE METHODS === #
    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_debt_case_id(self):
        # All the customers' cases in the company (a handful each) in one query:
        # the open one and the count come from the same rows.
        cases = self.env["debt.recovery.case"].search_fetch(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ],
            ["partner_id", "stage_id", "is_closed", "name"],
        )
        open_case = {}
        counts = defaultdict(int)
        for case in cases:
            counts[case.partner_id] += 1
            if not case.is_closed:
                open_case[case.partner_id] = case
        for partner in self:
            case = open_case.get(partner.commercial_partner_id, cases.browse())
            partner.debt_case_id = case
            partner.debt_stage_id = case.stage_id
            partner.debt_case_count = counts[partner.commercial_partner_id]

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_debt_promise_counts(self):
        counts = {
            (partner, state): count
            for partner, state, count in self.env["debt.recovery.promise"]._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                    ("state", "in", ("kept", "broken")),
                ],
                ["partner_id", "state"],
                ["__count"],
            )
        }
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.debt_promise_kept_count = counts.get((commercial, "kept"), 0)
            partner.debt_promise_broken_count = counts.get((commercial, "broken"), 0)

    @api.depends("commercial_partner_id", "credit_limit")
    @api.depends_context("company", "tz")
    def _compute_debt_amounts(self):
        # Receivable, overdue and exposure together: they share the one read
        # of the customers' open items (the customer form shows them all).
        company = self.env.company
        today = fields.Date.context_today(self)
        receivable = self._debt_receivable_by_partner(today)
        exposure = self._debt_exposure_by_partner(
            {commercial: amounts["due"] for commercial, amounts in receivable.items()}
        )
        reasons = self._debt_hold_reasons(exposure, self._debt_late_days(receivable, today))
        Move = self.env["account.move"]
        for partner in self:
            commercial = partner.commercial_partner_id
            amounts = receivable.get(commercial, {})
            partner.debt_currency_id = company.currency_id
            partner.debt_amount_due = amounts.get("due", 0.0)
            partner.debt_amount_overdue = amounts.get("overdue", 0.0)
            partner.debt_oldest_overdue_days = (
                (today - amounts["oldest"]).days if amounts.get("oldest") else 0
            )
            partner.debt_overdue_invoice_ids = Move.browse(amounts.get("move_ids", ()))
            limit = commercial.credit_limit
            amount = exposure.get(commercial, 0.0)
            partner.debt_exposure = amount
            partner.debt_credit_available = limit - amount if limit else 0.0
            partner.debt_credit_usage = amount / limit * 100.0 if limit else 0.0
            partner.debt_hold_reason = "; ".join(reasons.get(commercial, [])) or False

    def _debt_receivable_by_partner(self, today):
        """The company's open receivable items of these customers, in one query.

        :return: {commercial partner: {"due": total, "overdue": overdue total,
                 "oldest": oldest overdue due date or None, "move_ids": the
                 overdue entries' ids}}, amounts in company currency.
        """
        AccountMoveLine = self.env["account.move.line"]
        query = AccountMoveLine._search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
                *AccountMoveLine._debt_open_domain(),
            ]
        )
        # The overdue condition on the same rows (plain columns of the table).
        overdue = AccountMoveLine._where_calc(
            AccountMoveLine._debt_overdue_domain(today)
        ).where_clause

        def column(fname):
            return AccountMoveLine._field_to_sql(query.table, fname, query)

        query.groupby = column("partner_id")
        rows = self.env.execute_query(
            query.select(
                column("partner_id"),
                SQL("SUM(%s)", column("amount_residual")),
                SQL("SUM(%s) FILTER (WHERE %s)", column("amount_residual"), overdue),
                SQL("MIN(%s) FILTER (WHERE %s)", column("date_maturity"), overdue),
                SQL("ARRAY_AGG(DISTINCT %s) FILTER (WHERE %s)", column("move_id"), overdue),
            )
        )
        partners = self.browse(row[0] for row in rows)
        receivable = {}
        for partner, (_id, due, late, oldest, move_ids) in zip(partners, rows, strict=True):
            amounts = receivable.setdefault(
                partner.commercial_partner_id,
                {"due": 0.0, "overdue": 0.0, "oldest": None, "move_ids": []},
            )
            amounts["due"] += due or 0.0
            amounts["overdue"] += late or 0.0
            if oldest and (not amounts["oldest"] or oldest < amounts["oldest"]):
                amounts["oldest"] = oldest
            amounts["move_ids"] += move_ids or []
        return receivable

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_debt_risk(self):
        risks = self.env["debt.recovery.risk"].search_fetch(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ],
            ["partner_id", "score", "band", "reasons"],
        )
        risk_of = {risk.partner_id: risk for risk in risks}
        for partner in self:
            risk = risk_of.get(partner.commercial_partner_id, risks.browse())
            partner.debt_risk_id = risk
            partner.debt_risk_score = risk.score
            partner.debt_risk_band = risk.band
            partner.debt_risk_reasons = risk.reasons

    @api.model
    def _debt_late_days(self, receivable, today):
        """{commercial partner: days its oldest overdue item is late} from
        ``_debt_receivable_by_partner``'s result."""
        return {
            commercial: (today - amounts["oldest"]).days
            for commercial, amounts in receivable.items()
            if amounts["oldest"]
        }

    def _debt_exposure_by_partner(self, due=None):
        """{commercial partner: exposure in company currency} in a fixed number of queries.

        :param due: {commercial partner: open receivable} when already read.
        """
        company = self.env.company
        commercials = self.commercial_partner_id
        exposure = dict.fromkeys(commercials, 0.0)
        if due is None:
            today = fields.Date.context_today(self)
            due = {
                commercial: amounts["due"]
                for commercial, amounts in self._debt_receivable_by_partner(today).items()
            }
        for commercial, amount in due.items():
            exposure[commercial] += amount
        for partner, amount in self.env["account.move"]._read_group(
            [
                ("commercial_partner_id", "in", commercials.ids),
                ("company_id", "=", company.id),
                ("state", "=", "draft"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ],
            ["commercial_partner_id"],
            ["amount_total_signed:sum"],
        ):
            exposure[partner] += amount
        for commercial, amount in self._debt_exposure_extra(commercials).items():
            exposure[commercial] = exposure.get(commercial, 0.0) + amount
        return exposure

    def _debt_exposure_extra(self, commercials):
        """Other commitments counted in the exposure ({partner: amount} in company
        currency); debt_recovery_sale adds confirmed orders not yet invoiced."""
        return {}

    def _debt_hold_reasons(self, exposure=None, oldest=None):
        """{commercial partner: [reasons in plain words]} for those on credit hold.

        :param exposure: {commercial partner: exposure} when already read.
        :param oldest: {commercial partner: days its oldest overdue item is late}
                       when already read.
        """
        company = self.env.company
        commercials = self.commercial_partner_id
        days = company.debt_hold_overdue_days
        # Read now, not from computed fields: this runs while invoices post.
        # The open items once for both the exposure and the oldest overdue.
        today = fields.Date.context_today(self)
        receivable = None
        if (exposure is None and company.debt_hold_on_limit) or (oldest is None and days):
            receivable = self._debt_receivable_by_partner(today)
        if exposure is None:
            exposure = (
                self._debt_exposure_by_partner(
                    {commercial: amounts["due"] for commercial, amounts in receivable.items()}
                )
                if company.debt_hold_on_limit
                else {}
            )
        if oldest is None:
            oldest = self._debt_late_days(receivable or {}, today)
        currency = company.currency_id
        reasons = {}
        stage = company.debt_hold_stage_id
        cases = {}
        if stage:
            for case in (
                self.env["debt.recovery.case"]
                .sudo()
                .search(
                    [
                        ("partner_id", "in", commercials.ids),
                        ("company_id", "=", company.id),
                        ("is_closed", "=", False),
                    ]
                )
            ):
                cases[case.partner_id] = case
        for commercial in commercials:
            found = []
            if commercial.debt_manual_hold:
                found.append(self.env._("held by hand"))
            limit = commercial.credit_limit
            if (
                company.debt_hold_on_limit
                and limit
                and currency.compare_amounts(exposure.get(commercial, 0.0), limit) > 0
            ):
                found.append(
                    self.env._(
                        "exposure %(exposure)s is over the credit limit %(limit)s",
                        exposure=format_amount(self.env, exposure.get(commercial, 0.0), currency),
                        limit=format_amount(self.env, limit, currency),
                    )
                )
            if days and oldest.get(commercial, 0) > days:
                found.append(
                    self.env._(
                        "an invoice is %(late)s days overdue (limit %(days)s)",
                        late=oldest[commercial],
                        days=days,
                    )
                )
            case = cases.get(commercial)
            if case and (case.stage_id.sequence, case.stage_id.id) >= (stage.sequence, stage.id):
                found.append(
                    self.env._("the recovery case is at %(stage)s", stage=case.stage_id.name)
                )
            if found:
                reasons[commercial] = found
        return reasons

    def _search_debt_stage_id(self, operator, value):
        cases = self.env["debt.recovery.case"]._search(
            [
                ("stage_id", operator, value),
                ("is_closed", "=", False),
                ("company_id", "=", self.env.company.id),
            ]
        )
        return [("commercial_partner_id", "in", cases.subselect("partner_id"))]

    # === CONSTRAINT METHODS === #
    @api.constrains("credit_limit")
    def _check_debt_credit_limit(self):
        if any(partner.credit_limit < 0 for partner in self):
            raise ValidationError(self.env._("A credit limit cannot be negative."))

    @api.constrains("debt_policy_id")
    def _check_debt_policy_company(self):
        for partner in self:
            policy = partner.debt_policy_id
            if policy and policy.company_id != self.env.company:
                raise ValidationError(
                    self.env._(
                        "The recovery policy %(policy)s belongs to %(company)s, "
                        "not to %(current)s.",
                        policy=policy.display_name,
                        company=policy.company_id.display_name,
                        current=self.env.company.display_name,
                    )
                )

    # === BUSINESS METHODS === #
    def _debt_collections_contact(self):
        """Who recovery letters go to: the collections address, else the invoice
        address, else the customer; a contact with an email first."""
        self.ensure_one()
        candidates = [
            *self.child_ids.filtered(lambda c: c.type == "collections"),
            *self.child_ids.filtered(lambda c: c.type == "invoice"),
            self,
        ]
        with_email = [contact for contact in candidates if contact.email]
        return (with_email or candidates)[0]

    def _debt_statement_data(self):
        """Open items of this customer in the current company, per currency,
        with ageing buckets: what the statement of account prints."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "child_of", self.commercial_partner_id.id),
                ("company_id", "=", self.env.company.id),
                *self.env["account.move.line"]._debt_open_domain(),
            ],
            order="date_maturity, id",
        )
        bucket_names = [
            self.env._("Not due"),
            self.env._("1-30 days"),
            self.env._("31-60 days"),
            self.env._("61-90 days"),
            self.env._("Over 90 days"),
        ]
        blocks = {}
        for line in lines:
            block = blocks.setdefault(
                line.currency_id,
                {"currency": line.currency_id, "items": [], "balance": 0.0, "ageing": [0.0] * 5},
            )
            due = line.date_maturity or line.date
            days = (today - due).days if due < today else 0
            balance = line.amount_residual_currency
            disputed = bool(line.debt_dispute_id)
            block["disputed"] = block.get("disputed", 0.0) + (balance if disputed else 0.0)
            block["items"].append(
                {
                    "date": line.date,
                    "reference": line.move_id.name,
                    "date_maturity": due,
                    "days_overdue": days,
                    "amount": line.amount_currency,
                    "paid": line.amount_currency - balance,
                    "balance": balance,
                    "disputed": disputed,
                }
            )
            block["balance"] += balance
            index = (
                0 if days <= 0 else 1 if days <= 30 else 2 if days <= 60 else 3 if days <= 90 else 4
            )
            block["ageing"][index] += balance
        currencies = sorted(blocks.values(), key=lambda b: b["currency"].name)
        for block in currencies:
            block["ageing"] = list(zip(bucket_names, block["ageing"], strict=True))
        return {"date": today, "currencies": currencies}

    # === ACTION METHODS === #
    def _debt_commercial(self):
        self.ensure_one()
        return self.commercial_partner_id

    def action_debt_open_case(self):
        """Open the customer's recovery case, opening one by hand if there is none."""
        return self._debt_case_or_open()._get_form_action()

    def action_debt_view_cases(self):
        partner = self._debt_commercial()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_case_action"
        )
        action["domain"] = [("partner_id", "=", partner.id)]
        action["context"] = {"default_partner_id": partner.id, "active_test": False}
        action["view_mode"] = "list,form,kanban"
        action["views"] = [(False, "list"), (False, "form"), (False, "kanban")]
        return action

    def action_debt_view_overdue_invoices(self):
        partner = self._debt_commercial()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(
            {
                "name": self.env._("Overdue Invoices"),
                "domain": [("id", "in", partner.debt_overdue_invoice_ids.ids)],
                "context": {"create": False},
            }
        )
        return action

    def _debt_case_or_open(self):
        partner = self._debt_commercial()
        Case = self.env["debt.recovery.case"]
        case = Case.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.env.company.id),
                ("is_closed", "=", False),
            ],
            limit=1,
        )
        return case or Case.create({"partner_id": partner.id, "company_id": self.env.company.id})

    def action_debt_log_call(self):
        return self._debt_case_or_open().action_log_call()

    def action_debt_schedule_next_action(self):
        return self._debt_case_or_open().action_schedule_next_action()

    def action_debt_log_promise(self):
        return self._debt_case_or_open().action_log_promise()

    def action_debt_open_plan_wizard(self):
        return self._debt_case_or_open().action_open_plan_wizard()

    def action_debt_apply_suggested_limit(self):
        self.ensure_one()
        if not self.env.user.has_group("debt_recovery.group_debt_recovery_manager"):
            raise UserError(self.env._("Only a Recovery Manager can change credit limits."))
        risk = self.commercial_partner_id.debt_risk_id
        if not risk:
            raise UserError(self.env._("There is no risk assessment for this customer yet."))
        risk.sudo().action_apply_suggested_limit()

    def action_debt_credit_hold(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Credit Hold"),
            "res_model": "debt.recovery.hold",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def _debt_set_hold(self, action, reason):
        """Hold, release or grant a one-off override, with the reason on record."""
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason: it goes on record."))
        if action == "override" and not self.env.user.has_group(
            "debt_recovery.group_debt_recovery_manager"
        ):
            raise UserError(self.env._("Only a Recovery Manager can override a credit hold."))
        values = {
            "hold": {"debt_manual_hold": True},
            "release": {"debt_manual_hold": False, "debt_hold_override": False},
            "override": {"debt_hold_override": True},
        }[action]
        labels = {
            "hold": self.env._("Credit hold set"),
            "release": self.env._("Credit hold released"),
            "override": self.env._("One-off credit hold override granted"),
        }
        for partner in self.commercial_partner_id:
            # sudo: the fields are read-only in the form; this is the only way to set them.
            partner.sudo().write(values)
            partner.sudo().message_post(
                body=self.env._(
                    "%(action)s by %(user)s: %(reason)s",
                    action=labels[action],
                    user=self.env.user.name,
                    reason=reason,
                ),
                subtype_xmlid="mail.mt_note",
            )

    def action_debt_change_stage(self):
        return self._debt_case_or_open().action_change_stage()
