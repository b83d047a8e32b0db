from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount

from .res_partner import ACCOUNT_GROUPS


class ResPartner(models.Model):
    """Credit exposure and credit holds of a customer (the recovery panel is
    in res_partner.py; both read the customer's open items once)."""

    # A second file for one concern, as account_journal_dashboard.py is.
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    # === FIELDS === #
    debt_exposure = fields.Monetary(
        string="Credit Exposure",
        compute="_compute_debt_amounts",
        currency_field="debt_currency_id",
        groups=ACCOUNT_GROUPS,
        help="Open receivables net of open credits (credit notes, unapplied payments), "
        "draft invoices and (with Sales) confirmed orders not yet invoiced, in company "
        "currency.",
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

    # === COMPUTE METHODS === #
    def _debt_set_credit_figures(self, receivable, today):
        """Exposure, available credit and hold reason, from the open items that
        ``_compute_debt_amounts`` read for the panel (``receivable``)."""
        exposure = self._debt_exposure_by_partner(
            {commercial: amounts["due"] for commercial, amounts in receivable.items()}
        )
        reasons = self._debt_hold_reasons(exposure, self._debt_late_days(receivable, today))
        for partner in self:
            commercial = partner.commercial_partner_id
            limit = commercial.credit_limit
            amount = exposure.get(commercial, 0.0)
            partner.debt_exposure = amount
            partner.debt_credit_available = limit - amount if limit else 0.0
            partner.debt_credit_usage = amount / limit * 100.0 if limit else 0.0
            partner.debt_hold_reason = "; ".join(reasons.get(commercial, [])) or False

    # === CONSTRAINT METHODS === #
    @api.constrains("credit_limit")
    def _check_debt_credit_limit(self):
        if any(partner.credit_limit < 0 for partner in self):
            raise ValidationError(self.env._("A credit limit cannot be negative."))

    # === ACTION METHODS === #
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

    # === BUSINESS METHODS === #
    @api.model
    def _debt_late_days(self, receivable, today):
        """{commercial partner: days its oldest overdue item is late} from
        ``_debt_receivable_by_partner``'s result (customers whose open
        credits cover what is overdue owe nothing late)."""
        return {
            commercial: (today - amounts["oldest"]).days
            for commercial, amounts in receivable.items()
            if amounts["oldest"]
        }

    def _debt_exposure_by_partner(self, due=None):
        """{commercial partner: exposure in company currency} in a fixed number of queries.

        The open receivable is net: credit notes and unapplied payments are
        open items with a negative residual.

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

    @api.model
    def _debt_enforce_credit_hold(self, documents, customer_of, refusal):
        """Refuse ``documents`` of customers on credit hold, unless a manager
        granted a one-off override, which the first of them uses up.

        The one check behind posting invoices (account_move.py) and confirming
        sales orders (debt_recovery_sale): the hold reasons of all their
        customers are read once per company.

        :param documents: invoices or orders (``company_id``, ``name``).
        :param customer_of: function giving a document's commercial partner.
        :param refusal: the sentence saying what cannot be done, translated
                        (e.g. "The invoice cannot be posted").
        :raise UserError: naming the customer and the reasons of the hold.
        """
        for company, company_documents in documents.grouped("company_id").items():
            # sudo: the hold fields are for accountants; whoever posts or
            # confirms is checked, and may use up an override a manager granted.
            Partner = self.env["res.partner"].with_company(company).sudo()
            customers = Partner.browse({customer_of(doc).id for doc in company_documents})
            reasons = customers._debt_hold_reasons()
            for document in company_documents:
                customer = Partner.browse(customer_of(document).id)
                if customer not in reasons:
                    continue
                why = "; ".join(reasons[customer])
                if customer.debt_hold_override:
                    customer.debt_hold_override = False
                    customer.message_post(
                        body=self.env._(
                            "Credit hold override used for %(document)s (%(reasons)s).",
                            document=document.name or document.display_name,
                            reasons=why,
                        ),
                        subtype_xmlid="mail.mt_note",
                    )
                    continue
                raise UserError(
                    self.env._(
                        "%(customer)s is on credit hold: %(reasons)s. %(refusal)s; a Recovery "
                        "Manager can grant a one-off override.",
                        customer=customer.display_name,
                        reasons=why,
                        refusal=refusal,
                    )
                )

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
