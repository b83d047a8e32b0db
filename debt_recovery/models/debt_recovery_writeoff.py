from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .debt_recovery_stage import LADDER_KINDS, RECORD_HOLD_FIELDS
from .debt_recovery_workflow_mixin import workflow_action

MANAGER_GROUP = "debt_recovery.group_debt_recovery_manager"
# The customer's write-offs (posted or to approve) of the last days that
# count with a new one against the approval amount: no splitting around it.
APPROVAL_WINDOW_DAYS = 30
# Customers whose items the small-balance cron reads at once.
SMALL_BALANCE_BATCH = 200
# What a write-off is about: set while it is a draft, never after.
FROZEN_FIELDS = {
    "case_id",
    "partner_id",
    "company_id",
    "currency_id",
    "date",
    "reason_id",
    "note",
    "line_ids",
}


class DebtRecoveryWriteoff(models.Model):
    """A debt written off: one balanced entry clears the customer's items
    against the bad-debt expense (and, under a VAT bad-debt relief, the
    output VAT of the invoices, pro rata). Above the company's approval
    amount it waits for a second recovery manager."""

    _name = "debt.recovery.writeoff"
    _description = "Debt Write-Off"
    _inherit = ["mail.thread", "mail.activity.mixin", "debt.recovery.workflow.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True
    _debt_workflow_fields = (
        "state",
        "user_id",
        "automatic",
        "approved_by_id",
        "date_approved",
        "move_id",
        "expense_account_id",
        "reversal_move_id",
        "reversal_reason",
    )

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Case",
        readonly=True,
        index=True,
        check_company=True,
        ondelete="restrict",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(comodel_name="res.currency", required=True, readonly=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    date = fields.Date(
        string="Accounting Date", required=True, default=fields.Date.context_today, readonly=True
    )
    reason_id = fields.Many2one(
        comodel_name="debt.recovery.writeoff.reason",
        string="Reason",
        required=True,
        readonly=True,
        ondelete="restrict",
    )
    note = fields.Text(readonly=True)
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("to_approve", "To Approve"),
            ("posted", "Written Off"),
            ("reversed", "Reversed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    automatic = fields.Boolean(
        string="Small Balance",
        readonly=True,
        help="Written off by the policy's automatic write-off of small balances.",
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Requested By",
        readonly=True,
        default=lambda self: self.env.user,
    )
    approved_by_id = fields.Many2one(comodel_name="res.users", string="Approved By", readonly=True)
    date_approved = fields.Datetime(string="Approved On", readonly=True)
    move_id = fields.Many2one(
        comodel_name="account.move", string="Journal Entry", readonly=True, check_company=True
    )
    reversal_move_id = fields.Many2one(
        comodel_name="account.move", string="Reversal Entry", readonly=True, check_company=True
    )
    reversal_reason = fields.Text(string="Reversed Because", readonly=True)
    expense_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Bad-Debt Expense Account",
        readonly=True,
        help="The account debited when the entry was posted.",
    )
    line_ids = fields.One2many(
        comodel_name="debt.recovery.writeoff.line",
        inverse_name="writeoff_id",
        string="Items Written Off",
        readonly=True,
    )
    recovery_ids = fields.One2many(
        comodel_name="debt.recovery.writeoff.recovery",
        inverse_name="writeoff_id",
        string="Recoveries",
        readonly=True,
    )
    amount_total = fields.Monetary(
        string="Written Off",
        compute="_compute_amounts",
        store=True,
        currency_field="currency_id",
    )
    amount_vat = fields.Monetary(
        string="VAT Relief",
        compute="_compute_amounts",
        store=True,
        currency_field="currency_id",
        help="The output VAT taken back under the bad-debt relief (part of the amount "
        "written off).",
    )
    amount_total_company = fields.Monetary(
        string="Written Off (Company Currency)",
        compute="_compute_amounts",
        store=True,
        currency_field="company_currency_id",
        help="At the rate of the entry once posted; at the rate of its date before.",
    )
    amount_recovered = fields.Monetary(
        string="Recovered",
        compute="_compute_amount_recovered",
        store=True,
        currency_field="currency_id",
    )
    amount_recoverable = fields.Monetary(
        string="Still Unrecovered",
        compute="_compute_amount_recovered",
        store=True,
        currency_field="currency_id",
    )

    # === COMPUTE METHODS === #
    @api.depends("partner_id", "date", "move_id.name")
    def _compute_name(self):
        for writeoff in self:
            writeoff.name = writeoff.move_id.name or self.env._(
                "Write-off of %(customer)s", customer=writeoff.partner_id.display_name or ""
            )

    @api.depends(
        "line_ids.amount", "line_ids.amount_vat", "line_ids.amount_company", "date", "state"
    )
    def _compute_amounts(self):
        for writeoff in self:
            writeoff.amount_total = sum(writeoff.line_ids.mapped("amount"))
            writeoff.amount_vat = sum(writeoff.line_ids.mapped("amount_vat"))
            if writeoff.state == "posted":
                writeoff.amount_total_company = sum(writeoff.line_ids.mapped("amount_company"))
            else:
                writeoff.amount_total_company = writeoff._debt_to_company(writeoff.amount_total)

    @api.depends("recovery_ids.amount", "amount_total", "state")
    def _compute_amount_recovered(self):
        for writeoff in self:
            writeoff.amount_recovered = sum(writeoff.recovery_ids.mapped("amount"))
            writeoff.amount_recoverable = (
                writeoff.amount_total - writeoff.amount_recovered
                if writeoff.state == "posted"
                else 0.0
            )

    # === CRUD METHODS === #
    def write(self, vals):
        if set(vals) & FROZEN_FIELDS and not self._debt_workflow_unlocked():
            self.check_access("write")
            self._debt_ensure_editable()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if any(writeoff.state in ("posted", "to_approve") for writeoff in self):
            raise UserError(
                self.env._(
                    "A write-off that was posted or asked for approval is a record: it cannot "
                    "be deleted (cancel it before it is posted)."
                )
            )

    # === ACTION METHODS === #
    @workflow_action
    def action_approve(self):
        """A second recovery manager approves: the entry is posted."""
        self._debt_ensure_manager()
        self._debt_ensure_workflow_access()
        for writeoff in self:
            if writeoff.state != "to_approve":
                raise UserError(
                    self.env._(
                        "%(name)s does not wait for approval: only a write-off to approve can "
                        "be approved.",
                        name=writeoff.display_name,
                    )
                )
            if writeoff.user_id == self.env.user:
                raise UserError(
                    self.env._(
                        "%(name)s is approved by another recovery manager than the one who "
                        "asked for it.",
                        name=writeoff.display_name,
                    )
                )
        # Every check of the posting first (a period locked since the request):
        # a refusal leaves the write-off waiting, unapproved.
        for writeoff in self:
            writeoff._debt_prepare_move()
        self.write({"approved_by_id": self.env.user.id, "date_approved": fields.Datetime.now()})
        self._debt_post()
        self.activity_feedback(
            ["mail.mail_activity_data_todo"],
            feedback=self.env._("Approved by %(user)s.", user=self.env.user.name),
        )
        return True

    @workflow_action
    def action_cancel(self):
        self._debt_ensure_manager()
        self._debt_ensure_workflow_access()
        if any(writeoff.state not in ("draft", "to_approve") for writeoff in self):
            raise UserError(
                self.env._(
                    "Only a write-off not yet posted can be cancelled: reverse its journal "
                    "entry instead."
                )
            )
        self.write({"state": "cancelled"})
        self.activity_unlink(["mail.mail_activity_data_todo"])
        for writeoff in self.filtered("case_id"):
            writeoff.case_id.message_post(
                body=self.env._(
                    "Write-off of %(amount)s cancelled by %(user)s.",
                    amount=format_amount(self.env, writeoff.amount_total, writeoff.currency_id),
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    @workflow_action
    def _debt_reverse(self, reason):
        """Undo posted write-offs written off by mistake: their entry is
        reversed (Odoo unreconciles the items, which are owed again) and the
        case goes back to the ladder when its debt is overdue again."""
        self._debt_ensure_manager()
        self._debt_ensure_workflow_access()
        if not (reason or "").strip():
            raise UserError(self.env._("Say why the write-off is reversed."))
        today = fields.Date.context_today(self)
        for writeoff in self:
            if writeoff.state != "posted":
                raise UserError(
                    self.env._(
                        "%(name)s is not posted: only a posted write-off can be reversed.",
                        name=writeoff.display_name,
                    )
                )
            if writeoff.recovery_ids:
                raise UserError(
                    self.env._(
                        "%(amount)s was recovered on %(name)s since: the recoveries are "
                        "booked on it, the write-off is kept.",
                        amount=format_amount(
                            self.env, writeoff.amount_recovered, writeoff.currency_id
                        ),
                        name=writeoff.display_name,
                    )
                )
            move = writeoff.move_id
            violated = writeoff.company_id._get_violated_lock_dates(
                today, not writeoff.currency_id.is_zero(writeoff.amount_vat), move.journal_id
            )
            if violated:
                raise UserError(
                    self.env._(
                        "The write-off cannot be reversed today: the period is locked "
                        "(%(locks)s). Nothing was reversed.",
                        locks=self.env["res.company"]._format_lock_dates(violated),
                    )
                )
            # sudo: a recovery manager (checked above) reverses the entry of
            # the write-off, without the accountant's rights.
            reversal = move.sudo()._reverse_moves(
                [
                    {
                        "date": today,
                        "ref": self.env._(
                            "Reversal of %(move)s: %(reason)s", move=move.name, reason=reason
                        ),
                    }
                ],
                cancel=True,
            )
            writeoff.write(
                {"state": "reversed", "reversal_move_id": reversal.id, "reversal_reason": reason}
            )
            body = self.env._(
                "Write-off %(move)s of %(amount)s reversed by %(user)s (entry %(reversal)s): "
                "%(reason)s",
                move=move.name,
                amount=format_amount(self.env, writeoff.amount_total, writeoff.currency_id),
                user=self.env.user.name,
                reversal=reversal.name,
                reason=reason,
            )
            writeoff.message_post(body=body, subtype_xmlid="mail.mt_note")
            if writeoff.case_id:
                writeoff.case_id.message_post(body=body, subtype_xmlid="mail.mt_note")
        if self.case_id:
            # sudo: the cases follow from the entries reversed.
            self.env["debt.recovery.case"].sudo()._sync_cases(self.case_id.partner_id)
        return True

    def action_open_reverse(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reverse the Write-Off"),
            "res_model": "debt.recovery.writeoff.reverse",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_writeoff_id": self.id},
        }

    def action_view_move(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.move_id.id,
            "views": [(False, "form")],
        }

    # === BUSINESS METHODS === #
    def _debt_ensure_editable(self):
        """What is written off is set while the write-off is a draft: what a
        manager approves, or what was posted, does not change."""
        if not self._debt_workflow_unlocked() and any(w.state != "draft" for w in self):
            raise UserError(
                self.env._(
                    "A write-off asked for approval, posted or cancelled cannot be changed: "
                    "cancel it and write off again."
                )
            )

    @api.model
    def _debt_ensure_manager(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(self.env._("Only a recovery manager can write off debt."))

    def _debt_to_company(self, amount):
        self.ensure_one()
        company = self.company_id or self.env.company
        currency = self.currency_id or company.currency_id
        return currency._convert(
            amount, company.currency_id, company, self.date or fields.Date.context_today(self)
        )

    @api.model
    def _debt_recent_written_off(self, partner, company, date, exclude=None):
        """Company-currency total that ``partner`` had written off (posted or
        to approve) in ``company`` in the APPROVAL_WINDOW_DAYS days up to
        ``date``, less the write-offs ``exclude``."""
        domain = [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("company_id", "=", company.id),
            ("state", "in", ("posted", "to_approve")),
            ("date", ">", date - timedelta(days=APPROVAL_WINDOW_DAYS)),
            ("date", "<=", date),
        ]
        if exclude:
            domain.append(("id", "not in", exclude.ids))
        [(total,)] = self._read_group(domain, [], ["amount_total_company:sum"])
        return total or 0.0

    def _debt_needs_approval(self, pending=0.0):
        """Above the company's approval amount, counting with this write-off
        the customer's other ones of the last APPROVAL_WINDOW_DAYS days
        (posted or to approve) and ``pending`` (company currency, write-offs
        submitted with it): two of 450 under a 500 limit need approval."""
        self.ensure_one()
        limit = self.company_id.debt_writeoff_approval_amount
        if self.automatic or limit <= 0:
            return False
        total = (
            self.amount_total_company
            + pending
            + self._debt_recent_written_off(
                self.partner_id, self.company_id, self.date, exclude=self
            )
        )
        return self.company_currency_id.compare_amounts(total, limit) > 0

    @workflow_action
    def _debt_submit(self):
        """Post the write-offs, or put those above the company's approval
        amount in To Approve, with an activity for the other managers. Both
        check first that they could be posted (items, amounts, accounts, lock
        dates): a refusal leaves nothing behind."""
        self._debt_ensure_manager()
        for writeoff in self:
            writeoff._debt_prepare_move()
        to_approve = self.browse()
        pending = defaultdict(float)
        for writeoff in self:
            key = (writeoff.partner_id.commercial_partner_id, writeoff.company_id)
            if writeoff._debt_needs_approval(pending[key]):
                to_approve |= writeoff
            pending[key] += writeoff.amount_total_company
        to_approve.write({"state": "to_approve"})
        for writeoff in to_approve:
            writeoff._debt_ask_approval()
        (self - to_approve)._debt_post()
        return True

    def _debt_ask_approval(self):
        self.ensure_one()
        managers = self.env.ref(MANAGER_GROUP).users.filtered(
            lambda u: self.company_id in u.company_ids and u != self.user_id and not u.share
        )
        limit = format_amount(
            self.env, self.company_id.debt_writeoff_approval_amount, self.company_currency_id
        )
        summary = self.env._("Approve the write-off")
        note = self.env._(
            "%(user)s asks to write off %(amount)s of %(customer)s (%(reason)s): above %(limit)s, "
            "a second recovery manager approves.",
            user=self.user_id.name,
            amount=format_amount(self.env, self.amount_total, self.currency_id),
            customer=self.partner_id.display_name,
            reason=self.reason_id.name,
            limit=limit,
        )
        for manager in managers:
            self.activity_schedule(
                "mail.mail_activity_data_todo", summary=summary, note=note, user_id=manager.id
            )
        self.message_post(body=note, subtype_xmlid="mail.mt_note")
        if self.case_id:
            self.case_id.message_post(body=note, subtype_xmlid="mail.mt_note")

    def _debt_check_lines(self):
        """Refuse what cannot be written off: nothing, a zero or negative
        amount, more than an item owes, an item that is not an open
        receivable of the write-off's customer, company and currency."""
        self.ensure_one()
        if not self.reason_id:
            raise UserError(self.env._("Say why the debt is written off: choose a reason."))
        if not self.line_ids:
            raise UserError(self.env._("Choose the items to write off."))
        customer = self.partner_id.commercial_partner_id
        items = self.line_ids.move_line_id
        if len(items) != len(self.line_ids):
            raise UserError(self.env._("An item is written off once in a write-off."))
        for line in self.line_ids:
            item = line.move_line_id
            currency = item.currency_id
            if (
                item.account_type != "asset_receivable"
                or item.parent_state != "posted"
                or item.reconciled
                or currency.compare_amounts(item.amount_residual_currency, 0.0) <= 0
            ):
                raise UserError(
                    self.env._(
                        "%(item)s is not an open receivable that the customer owes: it cannot "
                        "be written off.",
                        item=item.display_name,
                    )
                )
            if item.debt_agency_handoff_id:
                raise UserError(
                    self.env._(
                        "%(item)s is with the agency %(agency)s (%(handoff)s): recall it from "
                        "the agency before writing it off.",
                        item=item.move_id.name or item.display_name,
                        agency=item.debt_agency_handoff_id.agency_id.display_name,
                        handoff=item.debt_agency_handoff_id.display_name,
                    )
                )
            if item.debt_legal_action_id:
                raise UserError(
                    self.env._(
                        "%(item)s is in the legal action %(action)s: close the legal action "
                        "before writing it off.",
                        item=item.move_id.name or item.display_name,
                        action=item.debt_legal_action_id.display_name,
                    )
                )
            if item.partner_id.commercial_partner_id != customer or item.company_id != (
                self.company_id
            ):
                raise UserError(
                    self.env._(
                        "%(item)s is owed by %(other)s in %(company)s: a write-off covers the "
                        "items of one customer (%(customer)s) in one company.",
                        item=item.display_name,
                        other=item.partner_id.commercial_partner_id.display_name,
                        company=item.company_id.display_name,
                        customer=customer.display_name,
                    )
                )
            if currency != self.currency_id:
                raise UserError(
                    self.env._(
                        "%(item)s is in %(currency)s: a write-off covers items in one currency "
                        "(%(own)s).",
                        item=item.display_name,
                        currency=currency.name,
                        own=self.currency_id.name,
                    )
                )
            if currency.compare_amounts(line.amount, 0.0) <= 0:
                raise UserError(
                    self.env._(
                        "The amount written off %(item)s must be positive.",
                        item=item.move_id.name or item.display_name,
                    )
                )
            if currency.compare_amounts(line.amount, item.amount_residual_currency) > 0:
                raise UserError(
                    self.env._(
                        "%(amount)s cannot be written off %(item)s: only %(open)s is open on it.",
                        amount=format_amount(self.env, line.amount, currency),
                        item=item.move_id.name or item.display_name,
                        open=format_amount(self.env, item.amount_residual_currency, currency),
                    )
                )

    def _debt_ensure_entry_booked(self):
        """Refuse to go on from write-offs whose entry is no longer posted or
        no longer matched with the items it wrote off: what they say was
        written off is owed again."""
        for writeoff in self:
            entry_lines = writeoff.move_id.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
            )
            if (
                writeoff.move_id.state != "posted"
                or not entry_lines
                or not all(entry_lines.mapped("reconciled"))
            ):
                raise UserError(
                    self.env._(
                        "The entry %(move)s of %(name)s is no longer posted or no longer "
                        "matched with the items written off: nothing can be recovered on it. "
                        "Match it again with the items, or reverse the write-off.",
                        move=writeoff.move_id.display_name,
                        name=writeoff.display_name,
                    )
                )

    def _debt_vat_shares(self):
        """{writeoff line: [(invoice tax line, VAT, VAT in company currency)]}
        under the bad-debt relief: the part of each amount written off that is
        the invoice's output VAT, pro rata of its tax lines (tax line ×
        written off / invoice total), in company currency as the tax line
        booked it (the VAT declared, not at today's rate). Taxes due on
        payment (cash basis) are left out: their VAT was never declared, it
        waits on the transition account."""
        self.ensure_one()
        shares = {}
        if not self.company_id.debt_writeoff_vat_relief:
            return shares
        company_currency = self.company_id.currency_id
        for line in self.line_ids:
            invoice = line.move_line_id.move_id
            if invoice.move_type != "out_invoice" or not invoice.amount_total:
                continue
            currency = line.currency_id
            ratio = line.amount / invoice.amount_total
            parts = []
            for tax_line in invoice.line_ids.filtered(
                lambda lt: lt.display_type == "tax" and lt.tax_repartition_line_id
            ):
                if tax_line.tax_repartition_line_id.tax_id.tax_exigibility == "on_payment":
                    continue
                amount = currency.round(-tax_line.amount_currency * ratio)
                balance = company_currency.round(-tax_line.balance * ratio)
                if currency.is_zero(amount) and company_currency.is_zero(balance):
                    continue
                parts.append((tax_line, amount, balance))
            if parts:
                shares[line] = parts
        return shares

    @api.model
    def _debt_counterpart_repartition(self, repartition):
        """The refund repartition line of the tax that matches the invoice
        repartition line ``repartition`` (and the other way round): the VAT
        taken back goes to the tax report as a credit note's would."""
        tax = repartition.tax_id
        invoice_lines = tax.invoice_repartition_line_ids.filtered(
            lambda r: r.repartition_type == "tax"
        )
        refund_lines = tax.refund_repartition_line_ids.filtered(
            lambda r: r.repartition_type == "tax"
        )
        own, other = (
            (invoice_lines, refund_lines)
            if repartition.document_type == "invoice"
            else (refund_lines, invoice_lines)
        )
        index = own.ids.index(repartition.id) if repartition.id in own.ids else len(other)
        if index >= len(other):
            raise UserError(
                self.env._(
                    "The tax %(tax)s has no matching distribution line for credit notes: "
                    "fix its distribution before taking back its VAT.",
                    tax=tax.display_name,
                )
            )
        return other[index]

    @api.model
    def _debt_vat_line_vals(self, parts, name, partner, currency, sign):
        """Journal item values of VAT taken back (``sign`` 1) or due again
        (``sign`` -1) from ``parts`` [(tax line, VAT, VAT in company currency,
        base ratio)]: one item per tax account and distribution line, with the
        distribution line and tags that take it to the tax report."""
        grouped = defaultdict(lambda: [0.0, 0.0, 0.0])
        company_currency = parts[0][0].company_currency_id if parts else None
        for tax_line, amount, balance, ratio in parts:
            repartition = self._debt_counterpart_repartition(tax_line.tax_repartition_line_id)
            figures = grouped[tax_line.account_id, repartition]
            figures[0] += amount
            figures[1] += balance
            figures[2] += tax_line.tax_base_amount * ratio
        return [
            {
                "name": name,
                "account_id": account.id,
                "partner_id": partner.id,
                "currency_id": currency.id,
                "amount_currency": sign * amount,
                "balance": sign * balance,
                "tax_repartition_line_id": repartition.id,
                "tax_tag_ids": [Command.set(repartition.tag_ids.ids)],
                "tax_base_amount": company_currency.round(base),
            }
            for (account, repartition), (amount, balance, base) in grouped.items()
        ]

    def _debt_prepare_move(self):
        """(journal, move values, VAT shares) of the write-off's entry, once
        every check passed: nothing is written before."""
        self.ensure_one()
        if self.state not in ("draft", "to_approve"):
            raise UserError(
                self.env._("%(name)s was posted or cancelled already.", name=self.display_name)
            )
        self._debt_check_lines()
        company = self.company_id
        journal, expense, _recovered = company._debt_writeoff_accounts()
        shares = self._debt_vat_shares()
        violated = company._get_violated_lock_dates(self.date, bool(shares), journal)
        if violated:
            raise UserError(
                self.env._(
                    "The debt cannot be written off on %(date)s: the period is locked "
                    "(%(locks)s). Nothing was written off.",
                    date=fields.Date.to_string(self.date),
                    locks=self.env["res.company"]._format_lock_dates(violated),
                )
            )
        currency, company_currency = self.currency_id, company.currency_id

        def to_company(amount):
            return currency._convert(amount, company_currency, company, self.date)

        reason = self.reason_id.name
        lines = []
        total_balance = 0.0
        vat_parts = []
        for line in self.line_ids:
            item = line.move_line_id
            balance = to_company(line.amount)
            total_balance += balance
            lines.append(
                {
                    "name": self.env._(
                        "Write-off of %(invoice)s: %(reason)s",
                        invoice=item.move_id.name,
                        reason=reason,
                    ),
                    "account_id": item.account_id.id,
                    "partner_id": item.partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": -line.amount,
                    "balance": -balance,
                    "date_maturity": self.date,
                }
            )
            ratio = line.amount / item.move_id.amount_total if shares.get(line) else 0.0
            vat_parts.extend((*part, ratio) for part in shares.get(line, []))
        vat_lines = self._debt_vat_line_vals(
            vat_parts,
            self.env._("VAT bad-debt relief: %(reason)s", reason=reason),
            self.partner_id,
            currency,
            1,
        )
        lines.extend(vat_lines)
        vat_amount = sum(vals["amount_currency"] for vals in vat_lines)
        vat_balance = sum(vals["balance"] for vals in vat_lines)
        lines.append(
            {
                "name": self.env._("Bad debt written off: %(reason)s", reason=reason),
                "account_id": expense.id,
                "partner_id": self.partner_id.id,
                "currency_id": currency.id,
                "amount_currency": self.amount_total - vat_amount,
                "balance": company_currency.round(total_balance - vat_balance),
            }
        )
        move_vals = {
            "move_type": "entry",
            "journal_id": journal.id,
            "date": self.date,
            "ref": self.env._(
                "Write-off of %(customer)s: %(reason)s",
                customer=self.partner_id.display_name,
                reason=reason,
            ),
            "line_ids": [Command.create(vals) for vals in lines],
        }
        return journal, expense, move_vals, shares

    @workflow_action
    def _debt_post(self):
        """Post each write-off's entry, reconcile it with the items, and note
        it on the case, which moves to Written Off once nothing overdue is
        left."""
        no_sync = {"debt_recovery_skip_sync": True}
        for writeoff in self:
            _journal, expense, move_vals, shares = writeoff._debt_prepare_move()
            # sudo: a recovery manager's write-off (rights checked by the
            # actions) books its entry without the accountant's rights.
            Move = self.env["account.move"].sudo().with_company(writeoff.company_id)
            move = Move.with_context(**no_sync).create(move_vals)
            move.with_context(**no_sync).action_post()
            receivables = move.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
            )
            for line, entry_line in zip(writeoff.line_ids, receivables, strict=True):
                (line.move_line_id.sudo() | entry_line).with_context(**no_sync).reconcile()
                line.write(
                    {
                        "amount_company": -entry_line.balance,
                        "amount_vat": sum(part[1] for part in shares.get(line, [])),
                    }
                )
            writeoff.write(
                {"state": "posted", "move_id": move.id, "expense_account_id": expense.id}
            )
            writeoff._debt_note_case()
        cases = self.case_id
        if cases:
            # sudo: the cases of these customers follow from the entries posted.
            self.env["debt.recovery.case"].sudo()._sync_cases(cases.partner_id)
        return True

    def _debt_note_case(self):
        """Tell the case what was written off, by whom, why; the case moves to
        Written Off when none of its debt is left overdue."""
        self.ensure_one()
        case = self.case_id
        parts = [
            self.env._(
                "Written off: %(amount)s (%(reason)s), entry %(move)s, by %(user)s.",
                amount=format_amount(self.env, self.amount_total, self.currency_id),
                reason=self.reason_id.name,
                move=self.move_id.name,
                user=self.user_id.name,
            )
        ]
        if self.approved_by_id:
            parts.append(self.env._("Approved by %(user)s.", user=self.approved_by_id.name))
        if not self.currency_id.is_zero(self.amount_vat):
            parts.append(
                self.env._(
                    "VAT bad-debt relief: %(amount)s.",
                    amount=format_amount(self.env, self.amount_vat, self.currency_id),
                )
            )
        if self.note:
            parts.append(self.note)
        body = " ".join(parts)
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        if not case:
            return
        case.message_post(body=body, subtype_xmlid="mail.mt_note")
        self.env.flush_all()
        stage = self.env["debt.recovery.stage"]._get_stage("written_off")
        overdue = self.env["account.move.line"].search_count(case._overdue_domain(), limit=1)
        if stage and not case.is_closed and case.stage_id != stage and not overdue:
            # sudo: the move follows from the write-off just posted.
            case.sudo()._debt_move_stage(
                {
                    "stage_id": stage.id,
                    "stage_before_pause_id": (
                        case.stage_id.id
                        if case.stage_kind in LADDER_KINDS
                        else case.stage_before_pause_id.id
                    ),
                }
            )

    # === CRON === #
    @api.model
    def _cron_write_off_small_balances(self):
        """Write off the small balances that the customers' policies allow:
        customers whose whole open balance in a company is below the policy's
        amount, with no open credit, every item overdue for the policy's days
        and none held. One write-off a customer and currency, logged; a
        locked period skips the customer (logged on its case)."""
        Item = self.env["account.move.line"]
        Policy = self.env["debt.recovery.policy"]
        policies = Policy.search([("writeoff_small_balances", "=", True)])
        if not policies:
            return
        today = fields.Date.context_today(self)
        companies = policies.company_id
        # Every open receivable (debts and credits) of those companies' customers.
        open_domain = [*Item._debt_open_domain(), ("company_id", "in", companies.ids)]
        totals = Item._read_group(
            open_domain,
            ["partner_id", "company_id"],
            ["amount_residual:sum", "amount_residual:min", "date_maturity:max"],
        )
        per_customer = defaultdict(lambda: [0.0, float("inf"), None])
        for partner, company, total, lowest, latest in totals:
            figures = per_customer[partner.commercial_partner_id, company]
            figures[0] += total
            figures[1] = min(figures[1], lowest)
            if latest and (figures[2] is None or latest > figures[2]):
                figures[2] = latest
        ceiling = max(policies.mapped("writeoff_small_amount"))
        youngest = min(policies.mapped("writeoff_small_days"))
        candidates = [
            key
            for key, (total, lowest, latest) in per_customer.items()
            if 0 < total < ceiling
            and lowest > 0
            and latest
            and latest < today - timedelta(youngest)
        ]
        if not candidates:
            return
        candidates.sort(key=lambda key: (key[1].id, key[0].id))
        for start in range(0, len(candidates), SMALL_BALANCE_BATCH):
            self._debt_write_off_small(
                candidates[start : start + SMALL_BALANCE_BATCH], per_customer, today
            )
            done = min(start + SMALL_BALANCE_BATCH, len(candidates))
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(candidates) - done)

    @api.model
    def _debt_write_off_small(self, batch, per_customer, today):
        """Write off the small balances of ``batch`` [(customer, company)]
        whose items' policies all allow it (``_cron_write_off_small_balances``)."""
        Item = self.env["account.move.line"]
        items = Item.search(
            [
                *Item._debt_open_domain(),
                ("company_id", "in", list({key[1].id for key in batch})),
                ("partner_id.commercial_partner_id", "in", [key[0].id for key in batch]),
            ],
            order="date_maturity, id",
        )
        policy_of = Item._debt_item_policies(
            [
                (
                    item.id,
                    item.company_id.id,
                    item.partner_id.commercial_partner_id.id,
                    item.move_id.debt_policy_id.id,
                )
                for item in items
            ]
        )
        grouped = items.grouped(lambda i: (i.partner_id.commercial_partner_id, i.company_id))
        reason = self.env.ref(
            "debt_recovery.writeoff_reason_uneconomic", raise_if_not_found=False
        ) or self.env["debt.recovery.writeoff.reason"].search([], limit=1)
        Case = self.env["debt.recovery.case"]
        customers = self.env["res.partner"].union(*(key[0] for key in batch))
        # The overdue items get their case first: what is written off, and
        # what may come back of it, stays on a case.
        Case._sync_cases(customers)
        cases = Case.search([("partner_id", "in", customers.ids), ("is_closed", "=", False)])
        case_of = {(case.partner_id, case.company_id): case for case in cases}
        for key in batch:
            customer_items = grouped.get(key, Item)
            item_policies = [policy_of[item.id][0] for item in customer_items]
            total = per_customer[key][0]
            if not customer_items or not all(
                policy.writeoff_small_balances and total < policy.writeoff_small_amount
                for policy in item_policies
            ):
                continue
            if any(
                item.date_maturity >= today - timedelta(policy.writeoff_small_days)
                # Held by a dispute, a promise, a plan, an agency, a lawyer.
                or any(item[fname] for fname in RECORD_HOLD_FIELDS.values())
                for item, policy in zip(customer_items, item_policies, strict=True)
            ):
                continue
            case = case_of.get(key, Case)
            for currency, currency_items in customer_items.grouped("currency_id").items():
                vals = {
                    "case_id": case.id,
                    "partner_id": key[0].id,
                    "company_id": key[1].id,
                    "currency_id": currency.id,
                    "reason_id": reason.id,
                    "automatic": True,
                    "note": self.env._(
                        "Small balance below the policy's %(amount)s, written off "
                        "automatically.",
                        amount=format_amount(
                            self.env, item_policies[0].writeoff_small_amount, key[1].currency_id
                        ),
                    ),
                    "line_ids": [
                        Command.create(
                            {"move_line_id": item.id, "amount": item.amount_residual_currency}
                        )
                        for item in currency_items
                    ],
                }
                try:
                    with self.env.cr.savepoint():
                        self.create(vals)._debt_submit()
                except UserError as error:
                    if case:
                        case.message_post(
                            body=self.env._(
                                "Small balance not written off: %(error)s", error=error.args[0]
                            ),
                            subtype_xmlid="mail.mt_note",
                        )
