from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .debt_recovery_workflow_mixin import workflow_step

MANAGER_GROUP = "debt_recovery.group_debt_recovery_manager"


class DebtRecoveryWriteoffRecovery(models.Model):
    """Money that came back on a debt written off: a customer's (or an
    agency's) payment matched to the write-off is booked as income on the
    bad debt recovered account, and the VAT taken back under the relief is
    due again on it, pro rata."""

    _name = "debt.recovery.writeoff.recovery"
    _description = "Recovery of Written-Off Debt"
    _inherit = ["debt.recovery.workflow.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    writeoff_id = fields.Many2one(
        comodel_name="debt.recovery.writeoff",
        string="Write-Off",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    case_id = fields.Many2one(related="writeoff_id.case_id", store=True, index=True)
    partner_id = fields.Many2one(related="writeoff_id.partner_id", store=True, index=True)
    company_id = fields.Many2one(related="writeoff_id.company_id", store=True, index=True)
    reason_id = fields.Many2one(related="writeoff_id.reason_id", store=True)
    currency_id = fields.Many2one(related="writeoff_id.currency_id", store=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    date = fields.Date(required=True, readonly=True)
    amount = fields.Monetary(string="Recovered", readonly=True, currency_field="currency_id")
    amount_vat = fields.Monetary(
        string="Of Which VAT",
        readonly=True,
        currency_field="currency_id",
        help="The output VAT due again on what was recovered (the relief taken back).",
    )
    amount_company = fields.Monetary(
        string="Recovered (Company Currency)",
        readonly=True,
        currency_field="company_currency_id",
    )
    payment_line_id = fields.Many2one(
        comodel_name="account.move.line",
        string="Payment",
        readonly=True,
        check_company=True,
        help="The customer's payment (its receivable credit) the recovery is matched with.",
    )
    move_id = fields.Many2one(
        comodel_name="account.move", string="Journal Entry", readonly=True, check_company=True
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Booked By",
        readonly=True,
        default=lambda self: self.env.user,
    )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        if not self._debt_workflow_unlocked():
            raise UserError(
                self.env._(
                    "A recovery is booked from its case (Book a Recovery), which posts its "
                    "entry and matches the payment: it cannot be created by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self._debt_workflow_unlocked():
            raise UserError(
                self.env._("A recovery is booked in the accounts: it cannot be changed.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_booked(self):
        raise UserError(
            self.env._("A recovery is booked in the accounts: reverse its entry instead.")
        )

    # === BUSINESS METHODS === #
    @api.model
    def _debt_recoverable(self, case, currency=None, writeoffs=None):
        """The posted write-offs with debt still unrecovered of the case, or
        of its customer in its company on no case (a small balance written
        off before any case was opened): those in ``currency`` first, oldest
        first; only among ``writeoffs`` when given (an agency's hand-off)."""
        customer = case.partner_id.commercial_partner_id
        domain = [
            ("state", "=", "posted"),
            "|",
            ("case_id", "=", case.id),
            "&",
            "&",
            ("case_id", "=", False),
            ("partner_id", "=", customer.id),
            ("company_id", "=", case.company_id.id),
        ]
        if writeoffs is not None:
            domain.append(("id", "in", writeoffs.ids))
        found = (
            self.env["debt.recovery.writeoff"]
            .search(domain, order="date, id")
            .filtered(lambda w: not w.currency_id.is_zero(w.amount_recoverable))
        )
        if currency:
            found = found.sorted(lambda w: w.currency_id != currency)
        return found

    @api.model
    def _debt_recoverable_in(self, writeoffs, currency, company, date):
        """What ``writeoffs`` have still unrecovered, in ``currency`` at the
        rate of ``date``."""
        return sum(
            writeoff.currency_id._convert(writeoff.amount_recoverable, currency, company, date)
            for writeoff in writeoffs
        )

    @api.model
    def _debt_book(self, case, payment_line, amount, date=None, writeoffs=None):
        """Book ``amount`` of ``payment_line`` (an open receivable credit of
        the case's customer) as recovered on the case's write-offs (only
        ``writeoffs`` when given), those in the payment's currency first,
        oldest first, converted at the rate of ``date`` for the others: Dr
        receivable (reconciled with the payment), Cr bad debt recovered and,
        where the write-off took the VAT relief, Cr the output tax, pro
        rata."""
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(self.env._("Only a recovery manager can book a recovery."))
        case.check_access("write")
        date = date or fields.Date.context_today(self)
        company = case.company_id
        currency = payment_line.currency_id
        customer = case.partner_id.commercial_partner_id
        if (
            payment_line.account_type != "asset_receivable"
            or payment_line.parent_state != "posted"
            or payment_line.reconciled
            or currency.compare_amounts(payment_line.amount_residual_currency, 0.0) >= 0
            or payment_line.partner_id.commercial_partner_id != customer
            or payment_line.company_id != company
        ):
            raise UserError(
                self.env._(
                    "%(line)s is no open payment or credit of %(customer)s in %(company)s: "
                    "it cannot be booked as a recovery.",
                    line=payment_line.display_name,
                    customer=customer.display_name,
                    company=company.display_name,
                )
            )
        if currency.compare_amounts(amount, 0.0) <= 0:
            raise UserError(self.env._("The amount recovered must be positive."))
        available = -payment_line.amount_residual_currency
        if currency.compare_amounts(amount, available) > 0:
            raise UserError(
                self.env._(
                    "Only %(open)s of this payment is not matched yet: %(amount)s cannot be "
                    "booked as recovered.",
                    open=format_amount(self.env, available, currency),
                    amount=format_amount(self.env, amount, currency),
                )
            )
        writeoffs = self._debt_recoverable(case, currency, writeoffs)
        writeoffs._debt_ensure_entry_booked()
        recoverable = self._debt_recoverable_in(writeoffs, currency, company, date)
        if currency.compare_amounts(amount, recoverable) > 0:
            raise UserError(
                self.env._(
                    "%(amount)s is more than the %(open)s written off on %(case)s and not "
                    "recovered yet.",
                    amount=format_amount(self.env, amount, currency),
                    open=format_amount(self.env, recoverable, currency),
                    case=case.display_name,
                )
            )
        journal, _expense, income = company._debt_writeoff_accounts()
        allocations = []
        left = amount
        for writeoff in writeoffs:
            if currency.is_zero(left):
                break
            own = writeoff.currency_id
            wanted = own.round(currency._convert(left, own, company, date))
            if own.compare_amounts(wanted, writeoff.amount_recoverable) <= 0:
                allocations.append((writeoff, wanted))
                break
            part = writeoff.amount_recoverable
            allocations.append((writeoff, part))
            left -= own._convert(part, currency, company, date)
        caseless = self.env["debt.recovery.writeoff"].union(
            *(writeoff for writeoff, _part in allocations if not writeoff.case_id)
        )
        vat_of = {writeoff: self._debt_vat_back(writeoff, part) for writeoff, part in allocations}
        has_vat = any(vat_of.values())
        violated = company._get_violated_lock_dates(date, has_vat, journal)
        if violated:
            raise UserError(
                self.env._(
                    "The recovery cannot be booked on %(date)s: the period is locked "
                    "(%(locks)s). Nothing was booked.",
                    date=fields.Date.to_string(date),
                    locks=self.env["res.company"]._format_lock_dates(violated),
                )
            )
        company_currency = company.currency_id

        total_balance = currency._convert(amount, company_currency, company, date)
        lines = [
            {
                "name": self.env._("Recovery of written-off debt"),
                "account_id": payment_line.account_id.id,
                "partner_id": payment_line.partner_id.id,
                "currency_id": currency.id,
                "amount_currency": amount,
                "balance": total_balance,
            }
        ]
        left_balance = total_balance
        balances = {}
        vat_amounts = {}
        for index, (writeoff, part) in enumerate(allocations):
            own = writeoff.currency_id
            part_balance = (
                left_balance
                if index == len(allocations) - 1
                else own._convert(part, company_currency, company, date)
            )
            left_balance -= part_balance
            balances[writeoff] = part_balance
            vat_lines = writeoff._debt_vat_line_vals(
                vat_of[writeoff],
                self.env._(
                    "VAT due again on the recovery of %(writeoff)s",
                    writeoff=writeoff.display_name,
                ),
                customer,
                own,
                -1,
            )
            lines.extend(vat_lines)
            vat_amounts[writeoff] = -sum(vals["amount_currency"] for vals in vat_lines)
            vat_balance = -sum(vals["balance"] for vals in vat_lines)
            lines.append(
                {
                    "name": self.env._(
                        "Bad debt recovered: %(writeoff)s", writeoff=writeoff.display_name
                    ),
                    "account_id": income.id,
                    "partner_id": customer.id,
                    "currency_id": own.id,
                    "amount_currency": -(part - vat_amounts[writeoff]),
                    "balance": -company_currency.round(part_balance - vat_balance),
                }
            )
        no_sync = {"debt_recovery_skip_sync": True}
        # sudo: a recovery manager (checked above) books the entry of money
        # received, without the accountant's rights.
        Move = self.env["account.move"].sudo().with_company(company).with_context(**no_sync)
        move = Move.create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "date": date,
                "ref": self.env._(
                    "Recovery of written-off debt: %(customer)s", customer=customer.display_name
                ),
                "line_ids": [Command.create(vals) for vals in lines],
            }
        )
        move.action_post()
        debit = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        (payment_line.sudo() | debit).with_context(**no_sync).reconcile()
        if caseless:
            # sudo: the customer's write-offs made before any case was opened
            # (small balances) join the case their money comes back on.
            caseless.sudo().write({"case_id": case.id})
        with workflow_step():
            recoveries = self.create(
                [
                    {
                        "writeoff_id": writeoff.id,
                        "date": date,
                        "amount": part,
                        "amount_vat": vat_amounts[writeoff],
                        "amount_company": balances[writeoff],
                        "payment_line_id": payment_line.id,
                        "move_id": move.id,
                    }
                    for writeoff, part in allocations
                ]
            )
        case.message_post(
            body=self.env._(
                "Recovered on written-off debt: %(amount)s (entry %(move)s, payment %(payment)s), "
                "booked by %(user)s. Recovered so far: %(rate)s %% of what was written off.",
                amount=format_amount(self.env, amount, currency),
                move=move.name,
                payment=payment_line.move_id.name,
                user=self.env.user.name,
                rate=round(case.recovery_rate, 1),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return recoveries

    @api.model
    def _debt_vat_back(self, writeoff, part):
        """[(VAT relief item, VAT due again, in company currency, ratio)] on
        ``part`` recovered of ``writeoff``: each VAT item of its entry pro rata
        (relief × part / written off), in company currency as the relief was
        booked."""
        currency = writeoff.currency_id
        if currency.is_zero(writeoff.amount_vat) or not writeoff.amount_total:
            return []
        ratio = part / writeoff.amount_total
        company_currency = writeoff.company_id.currency_id
        return [
            (
                line,
                currency.round(line.amount_currency * ratio),
                company_currency.round(line.balance * ratio),
                ratio,
            )
            for line in writeoff.move_id.line_ids.filtered("tax_repartition_line_id")
        ]
