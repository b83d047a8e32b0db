from odoo import api, fields, models
from odoo.osv import expression


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    debt_case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Recovery Case",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )

    # === BUSINESS METHODS === #
    @api.model
    def _debt_open_domain(self):
        """Open, posted customer receivable items."""
        return [
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]

    @api.model
    def _debt_overdue_domain(self, today):
        """Items with money still owed past their due date (add to the open domain)."""
        return [("date_maturity", "<", today), ("amount_residual", ">", 0)]

    @api.model
    def _debt_days_domain(self, date_field, operator, value, today):
        """Domain on ``date_field`` (a due date) for "days overdue <operator> value".

        Days overdue are ``today - due date`` when positive, 0 otherwise (or when
        there is no due date). Supports =, !=, <, <=, >, >=.
        """
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise NotImplementedError(operator)
        value = int(value or 0)
        if operator == ">=":
            operator, value = ">", value - 1
        elif operator == "<":
            return self._debt_negate(self._debt_days_domain(date_field, ">=", value, today))
        elif operator == "<=":
            return self._debt_negate(self._debt_days_domain(date_field, ">", value, today))
        elif operator == "!=":
            return self._debt_negate(self._debt_days_domain(date_field, "=", value, today))
        if operator == ">":
            if value < 0:
                return expression.TRUE_DOMAIN
            limit = fields.Date.subtract(today, days=value)
            return [(date_field, "<", limit)]
        # operator "="
        if value < 0:
            return expression.FALSE_DOMAIN
        if value == 0:
            return ["|", (date_field, "=", False), (date_field, ">=", today)]
        return [(date_field, "=", fields.Date.subtract(today, days=value))]

    @api.model
    def _debt_negate(self, domain):
        return ["!", *expression.normalize_domain(domain)]

    # === CRUD / ACCOUNTING HOOKS === #
    def _reconcile_plan(self, reconciliation_plan):
        res = super()._reconcile_plan(reconciliation_plan)
        # Once the whole plan is reconciled (and balanced), close the cases
        # of customers who have nothing overdue any more.
        lines = self.browse()
        stack = list(reconciliation_plan)
        while stack:
            item = stack.pop()
            if isinstance(item, models.BaseModel):
                lines |= item
            else:
                stack.extend(item)
        lines._debt_sync_cases_from_lines()
        return res

    def _debt_sync_cases_from_lines(self):
        """Open or close the recovery cases of these lines' customers."""
        if self.env.context.get("debt_recovery_skip_sync"):
            return
        receivables = self.filtered(lambda line: line.account_type == "asset_receivable")
        if receivables.partner_id:
            # sudo: opening and closing cases follows from accounting facts (a
            # payment, a posted invoice) that the current user was allowed to
            # record; it touches only these customers' cases.
            self.env["debt.recovery.case"].sudo()._sync_cases(receivables.partner_id)
