import math

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_amount, format_date

from .res_partner import ACCOUNT_GROUPS

MANAGER_GROUP = "debt_recovery.group_debt_recovery_manager"
# Changed only through the credit hold and credit limit actions, which check
# the caller's group and keep the reason on record (see ``write``).
DEBT_GUARDED_FIELDS = (
    "debt_manual_hold",
    "debt_hold_override",
    "debt_hold_override_user_id",
    "credit_limit",
)


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
        copy=False,
        groups=ACCOUNT_GROUPS,
    )
    debt_hold_override = fields.Boolean(
        string="One-off Override Granted",
        company_dependent=True,
        readonly=True,
        copy=False,
        groups=ACCOUNT_GROUPS,
    )
    debt_hold_override_user_id = fields.Many2one(
        comodel_name="res.users",
        string="Override Granted By",
        company_dependent=True,
        readonly=True,
        copy=False,
        groups=ACCOUNT_GROUPS,
        help="The Recovery Manager who granted the one-off override not used yet.",
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

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        self._debt_check_guarded_create(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._debt_check_guarded_write(vals)
        return super().write(vals)

    def _debt_guarded_refusal(self, fnames):
        labels = sorted(self._fields[fname]._description_string(self.env) for fname in fnames)
        return UserError(
            self.env._(
                "%(fields)s of a customer change only through the Credit Hold and "
                "Credit Limit actions (Recovery tab of the customer), which ask for "
                "the reason, not by editing the customer.",
                fields=", ".join(labels),
            )
        )

    @api.model
    def _debt_guarded_default(self, fname):
        if fname == "credit_limit":
            return self._fields[fname].get_company_dependent_fallback(self) or 0.0
        return False

    @api.model
    def _debt_check_guarded_create(self, vals_list):
        """At creation, the guarded fields keep their default (also when given
        through the context): a new customer is neither held nor limited by hand.

        Superuser code (crons, data files, the actions' ``sudo()``) may set them;
        an RPC caller never runs as superuser.
        """
        if self.env.su:
            return
        refused = set()
        for fname in DEBT_GUARDED_FIELDS:
            default = self._debt_guarded_default(fname)
            key = f"default_{fname}"
            if key in self.env.context and not self._debt_same_value(
                fname, self.env.context[key], default
            ):
                refused.add(fname)
            for vals in vals_list:
                if fname in vals and not self._debt_same_value(fname, vals[fname], default):
                    refused.add(fname)
        if refused:
            raise self._debt_guarded_refusal(refused)

    def _debt_check_guarded_write(self, vals):
        """Refuse a write of the guarded fields unless it changes nothing.

        Two writes are let through because they change nothing that counts:
        the value each record already has (a partner merge), and a contact
        taking its company's value (Odoo copies ``credit_limit``, a commercial
        field, from the company to its contacts; holds and limits are always
        read on the company).
        """
        fnames = [fname for fname in DEBT_GUARDED_FIELDS if fname in vals]
        if not fnames or self.env.su:
            return
        # sudo: only compares the values on record with the new ones.
        partners = self.sudo()
        refused = {
            fname
            for fname in fnames
            for partner in partners
            if not self._debt_same_value(fname, vals[fname], partner[fname])
            and (
                partner == partner.commercial_partner_id
                or not self._debt_same_value(
                    fname, vals[fname], partner.commercial_partner_id[fname]
                )
            )
        }
        if refused:
            raise self._debt_guarded_refusal(refused)

    @api.model
    def _debt_same_value(self, fname, value, current):
        field = self._fields[fname]
        if field.type == "many2one":
            value = value.id if isinstance(value, models.BaseModel) else value
            current = current.id if isinstance(current, models.BaseModel) else current
            return (value or False) == (current or False)
        if field.type == "float":
            try:
                return float(value or 0.0) == float(current or 0.0)
            except (TypeError, ValueError):
                return False
        return bool(value) == bool(current)

    # === ACTION METHODS === #
    def action_debt_apply_suggested_limit(self):
        self.ensure_one()
        self._debt_ensure_manager(self.env._("Only a Recovery Manager can change credit limits."))
        risk = self.commercial_partner_id.debt_risk_id
        if not risk:
            raise UserError(self.env._("There is no risk assessment for this customer yet."))
        risk.action_apply_suggested_limit()

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

    def action_debt_change_credit_limit(self):
        self.ensure_one()
        self._debt_ensure_manager(self.env._("Only a Recovery Manager can change credit limits."))
        action = self.action_debt_credit_hold()
        action["name"] = self.env._("Change the Credit Limit")
        action["context"]["default_action"] = "limit"
        return action

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
        :return: the overrides used, to log with ``_debt_log_overrides_used``
                 once the documents went through (invoices have their number
                 then): [(customer, document, reasons, manager who granted it)].
        :raise UserError: naming the customer and the reasons of the hold.
        """
        used = []
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
                    used.append((customer, document, why, customer.debt_hold_override_user_id))
                    customer.write(
                        {"debt_hold_override": False, "debt_hold_override_user_id": False}
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
        return used

    @api.model
    def _debt_log_overrides_used(self, used):
        """Log on each customer the override a document used: who granted it
        and which document it let through (``_debt_enforce_credit_hold``)."""
        for customer, document, why, manager in used:
            customer.message_post(
                body=self.env._(
                    "Credit hold override used for %(document)s by %(user)s, granted by "
                    "%(manager)s (%(reasons)s).",
                    manager=manager.name or self.env._("an unknown manager"),
                    document=self._debt_document_label(document),
                    user=self.env.user.name,
                    reasons=why,
                ),
                subtype_xmlid="mail.mt_note",
            )

    @api.model
    def _debt_document_label(self, document):
        """The invoice's or order's number, or for a draft invoice without one
        its date and amount."""
        if document.name and document.name != "/":
            return document.name
        date = document.invoice_date if "invoice_date" in document else False
        return self.env._(
            "draft invoice of %(date)s for %(amount)s",
            date=format_date(self.env, date or document.create_date),
            amount=format_amount(self.env, document.amount_total, document.currency_id),
        )

    def _debt_ensure_manager(self, message):
        """Refuse the caller unless a Recovery Manager: actions are public
        methods, callable over RPC by anyone who can read the customer."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(message)

    def _debt_set_hold(self, action, reason):
        """Hold, release or grant a one-off override, with the reason on record.

        Recovery Users may put a customer on hold; only a Recovery Manager
        releases a hold or grants an override.
        """
        if action not in ("hold", "release", "override"):
            raise UserError(self.env._("Unknown credit hold action."))
        if not self.env.user.has_group("debt_recovery.group_debt_recovery_user"):
            raise AccessError(self.env._("Only a Recovery User can put a customer on hold."))
        if action == "override":
            self._debt_ensure_manager(
                self.env._("Only a Recovery Manager can override a credit hold.")
            )
        if action == "release":
            self._debt_ensure_manager(
                self.env._("Only a Recovery Manager can release a credit hold.")
            )
        reason = self._debt_ensure_reason(reason)
        values = {
            "hold": {"debt_manual_hold": True},
            "release": {
                "debt_manual_hold": False,
                "debt_hold_override": False,
                "debt_hold_override_user_id": False,
            },
            "override": {"debt_hold_override": True, "debt_hold_override_user_id": self.env.uid},
        }[action]
        labels = {
            "hold": self.env._("Credit hold set"),
            "release": self.env._("Credit hold released"),
            "override": self.env._("One-off credit hold override granted"),
        }
        for partner in self.commercial_partner_id:
            partner.check_access("read")
            # sudo: the caller's group was checked above; the fields are
            # refused to any other write (see ``write``). The uid stays: the
            # note is the caller's.
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

    def _debt_set_credit_limit(self, limit, reason):
        """Change the customers' credit limit in the current company, with the
        reason on record (Recovery Managers only)."""
        self._debt_ensure_manager(self.env._("Only a Recovery Manager can change credit limits."))
        reason = self._debt_ensure_reason(reason)
        try:
            limit = float(limit or 0.0)
        except (TypeError, ValueError):
            limit = math.nan
        if not math.isfinite(limit) or limit < 0:
            raise UserError(self.env._("A credit limit is a positive amount (or 0 for none)."))
        currency = self.env.company.currency_id
        for partner in self.commercial_partner_id:
            partner.check_access("read")
            old = partner.sudo().credit_limit
            # sudo: the caller's group was checked above (see ``write``); the
            # uid stays, so the note is the caller's.
            partner.sudo().write({"credit_limit": limit})
            partner.sudo().message_post(
                body=self.env._(
                    "Credit limit changed from %(old)s to %(new)s by %(user)s: %(reason)s",
                    old=format_amount(self.env, old, currency),
                    new=format_amount(self.env, limit, currency),
                    user=self.env.user.name,
                    reason=reason,
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _debt_ensure_reason(self, reason):
        reason = str(reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason: it goes on record."))
        return reason
