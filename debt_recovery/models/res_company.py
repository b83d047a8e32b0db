from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# The late-payment law that applies to a company's letters, by the country of
# the company (the creditor); the EU directive for every other country.
JURISDICTIONS = {"FR": "fr", "DE": "de", "NL": "nl", "ES": "es", "GB": "uk"}


class ResCompany(models.Model):
    _inherit = "res.company"

    debt_hold_on_limit = fields.Boolean(
        string="Hold Customers Over Their Credit Limit",
        help="Refuse new invoices to customers whose exposure exceeds their credit limit.",
    )
    debt_hold_overdue_days = fields.Integer(
        string="Hold After Days Overdue",
        help="Refuse new invoices to customers with an invoice overdue more than this many "
        "days (0: never).",
    )
    debt_hold_stage_id = fields.Many2one(
        comodel_name="debt.recovery.stage",
        string="Hold From Recovery Stage",
        help="Refuse new invoices to customers whose recovery case reached this stage or a "
        "later one.",
    )

    debt_letter_window = fields.Selection(
        selection=[
            ("right", "Right Window"),
            ("left", "Left Window (DIN 5008)"),
        ],
        string="Envelope Window",
        default="right",
        required=True,
        help="Where the recipient's address is printed on letters, so that a window "
        "envelope shows it: on the right (C5/DL right window, usual in France, Spain and "
        "the United Kingdom) or on the left, 20 mm from the edge (DIN 5008, usual in "
        "Germany, Austria and Switzerland).",
    )

    debt_charge_journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Late-Payment Charges Journal",
        domain="[('type', '=', 'sale'), ('company_id', 'in', [id, False])]",
        help="The sales journal of the invoices of interest, compensation and fees "
        "(empty: the first sales journal).",
    )
    debt_interest_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Late-Payment Interest Account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income account of the interest charged (empty: the journal's account).",
    )
    debt_compensation_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Recovery Costs Account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income account of the fixed compensation and the level fees charged "
        "(empty: the journal's account).",
    )

    debt_agency_clearing_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Agency Clearing Account",
        domain="[('reconcile', '=', True), ('account_type', 'in', ('asset_current', "
        "'asset_receivable', 'liability_current'))]",
        help="What a collection agency collects on its own account is booked here (debit, "
        "the agency as partner) against the customer's receivable, until the agency "
        "remits it.",
    )
    debt_agency_journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Agency Collections Journal",
        domain="[('type', '=', 'general'), ('company_id', 'in', [id, False])]",
        help="The journal of the agency collections (empty: the first general journal).",
    )
    debt_agency_commission_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Agency Commission Account",
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Expense account of the agencies' commission bills (empty: the purchase "
        "journal's account).",
    )

    debt_writeoff_expense_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Bad-Debt Expense Account",
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Debited with the debt written off (net of the VAT recovered under a "
        "bad-debt relief).",
    )
    debt_writeoff_recovered_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Bad Debt Recovered Account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Credited with what a customer pays of a debt written off.",
    )
    debt_writeoff_journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Write-Off Journal",
        domain="[('type', '=', 'general'), ('company_id', 'in', [id, False])]",
        help="The journal of the write-off and recovery entries (empty: the first "
        "miscellaneous journal).",
    )
    debt_writeoff_vat_relief = fields.Boolean(
        string="VAT Bad-Debt Relief",
        help="A write-off takes back the output VAT of the written-off invoice, pro rata "
        "of its tax lines; a recovery pays it again.",
    )
    debt_writeoff_approval_amount = fields.Monetary(
        string="Write-Offs Need Approval Above",
        currency_field="currency_id",
        help="A write-off of more than this (in company currency) waits for a second "
        "recovery manager's approval (0: never).",
    )

    debt_limitation_warning_days = fields.Integer(
        string="Warn Before Limitation Date (Days)",
        default=90,
        help="A recovery manager (or the case's collector) gets an activity when an "
        "item's limitation date is this many days away or less.",
    )

    def _debt_charge_accounts(self):
        """(journal, {kind: income account}) of the late-payment charges."""
        self.ensure_one()
        Journal = self.env["account.journal"].sudo()
        journal = self.debt_charge_journal_id or Journal.search(
            [*Journal._check_company_domain(self), ("type", "=", "sale")], limit=1
        )
        default = journal.default_account_id
        interest = self.debt_interest_account_id or default
        costs = self.debt_compensation_account_id or default
        if not journal or not interest or not costs:
            raise UserError(
                self.env._(
                    "Interest and costs cannot be charged: set the journal and the income "
                    "accounts of late-payment charges for %(company)s (Invoicing > "
                    "Configuration > Settings).",
                    company=self.display_name,
                )
            )
        return journal, {
            "interest": interest,
            "compensation": costs,
            "fee": costs,
            "legal_cost": costs,
        }

    def _debt_agency_accounts(self):
        """(journal, clearing account) of the collections an agency makes on its
        own account."""
        self.ensure_one()
        journal = self.debt_agency_journal_id or self._debt_misc_journal()
        clearing = self.debt_agency_clearing_account_id
        if not journal or not clearing:
            raise UserError(
                self.env._(
                    "An agency's collection cannot be booked in %(company)s: set the agency "
                    "clearing account (Invoicing > Configuration > Settings, Debt Recovery).",
                    company=self.display_name,
                )
            )
        return journal, clearing

    def _debt_misc_journal(self):
        """The company's miscellaneous operations journal (code MISC, or the
        first general journal), never its exchange difference or cash-basis
        journal: entries of this addon are no exchange or tax differences."""
        self.ensure_one()
        # sudo: a recovery manager books without the accountant's rights.
        Journal = self.env["account.journal"].sudo()
        domain = [
            *Journal._check_company_domain(self),
            ("type", "=", "general"),
            (
                "id",
                "not in",
                (self.currency_exchange_journal_id | self.tax_cash_basis_journal_id).ids,
            ),
        ]
        return Journal.search([*domain, ("code", "=", "MISC")], limit=1) or Journal.search(
            domain, order="sequence, id", limit=1
        )

    def _debt_writeoff_accounts(self):
        """(journal, bad-debt expense, bad debt recovered) of the company."""
        self.ensure_one()
        journal = self.debt_writeoff_journal_id or self._debt_misc_journal()
        expense = self.debt_writeoff_expense_account_id
        recovered = self.debt_writeoff_recovered_account_id
        if not journal or not expense or not recovered:
            raise UserError(
                self.env._(
                    "Debts cannot be written off or recovered in %(company)s: set the "
                    "write-off journal, the bad-debt expense account and the bad debt "
                    "recovered account (Invoicing > Configuration > Settings).",
                    company=self.display_name,
                )
            )
        return journal, expense, recovered

    def _debt_jurisdiction(self):
        """The late-payment law of the company's letters: ``fr``, ``de``,
        ``nl``, ``es``, ``uk``, or ``eu`` (Directive 2011/7/EU) elsewhere."""
        self.ensure_one()
        return JURISDICTIONS.get(self.country_id.code, "eu")

    @api.constrains("debt_limitation_warning_days")
    def _check_debt_limitation_warning_days(self):
        if any(company.debt_limitation_warning_days < 0 for company in self):
            raise ValidationError(
                self.env._("The days of warning before a limitation date cannot be negative.")
            )

    @api.constrains("debt_writeoff_approval_amount")
    def _check_debt_writeoff_approval_amount(self):
        if any(company.debt_writeoff_approval_amount < 0 for company in self):
            raise ValidationError(
                self.env._("The write-off amount that needs approval cannot be negative.")
            )

    @api.constrains("debt_hold_overdue_days")
    def _check_debt_hold_overdue_days(self):
        if any(company.debt_hold_overdue_days < 0 for company in self):
            raise ValidationError(
                self.env._("The number of days overdue for a credit hold cannot be negative.")
            )
