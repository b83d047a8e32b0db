import re
import subprocess
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, tagged

from .common import MANAGER_GROUPS, DebtRecoveryCommon


class WriteoffCommon(DebtRecoveryCommon):
    """The company's write-off accounts, a 20 % VAT, two managers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Account = cls.env["account.account"]
        cls.expense_account = Account.create(
            {"name": "Bad debts", "code": "654100", "account_type": "expense"}
        )
        cls.recovered_account = Account.create(
            {"name": "Bad debts recovered", "code": "775100", "account_type": "income_other"}
        )
        cls.misc_journal = cls.company_data["default_journal_misc"]
        cls.company.write(
            {
                "debt_writeoff_expense_account_id": cls.expense_account.id,
                "debt_writeoff_recovered_account_id": cls.recovered_account.id,
                "debt_writeoff_journal_id": cls.misc_journal.id,
            }
        )
        cls.tax_20 = cls.company_data["default_tax_sale"].copy({"name": "VAT 20 %", "amount": 20.0})
        cls.tax_account = cls.tax_20.invoice_repartition_line_ids.account_id
        cls.reason_insolvency = cls.env.ref("debt_recovery.writeoff_reason_insolvency")
        cls.reason_settled = cls.env.ref("debt_recovery.writeoff_reason_settled")
        cls.stage_written_off = cls.env.ref("debt_recovery.stage_written_off")
        cls.user_manager_2 = cls._user("dr_manager_2", "Max Manager", MANAGER_GROUPS)
        cls.receivable = cls.company_data["default_account_receivable"]

    def _write_off(self, user=None, amounts=None, reason=None, date=None, **context):
        """Run the write-off wizard as ``user`` (the manager by default) with
        ``context`` (default_case_ids / default_move_line_ids), optionally
        setting {item: amount}; returns the write-offs created."""
        wizard_form = Form(
            self.env["debt.recovery.writeoff.wizard"]
            .with_user(user or self.user_manager)
            .with_context(**context)
        )
        wizard_form.reason_id = reason or self.reason_insolvency
        wizard_form.note = "Administrator's letter of 1 December"
        if date:
            wizard_form.date = date
        wizard = wizard_form.save()
        for line in wizard.line_ids:
            if amounts and line.move_line_id in amounts:
                line.amount = amounts[line.move_line_id]
        before = self.env["debt.recovery.writeoff"].search([])
        wizard.action_confirm()
        return self.env["debt.recovery.writeoff"].search([]) - before

    @staticmethod
    def _item(move):
        """The receivable line of ``move`` (an invoice, a payment)."""
        return move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")


@tagged("post_install", "-at_install")
class TestWriteoff(WriteoffCommon):
    # --- helpers --- #
    def _taxed_invoice(self, partner, untaxed, days_late, tax=None):
        due = self.today - timedelta(days=days_late)
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": due - timedelta(days=30),
                "invoice_date_due": due,
                "invoice_payment_term_id": False,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Consulting",
                            "quantity": 1,
                            "price_unit": untaxed,
                            "tax_ids": [Command.set((tax or self.tax_20).ids)],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    @staticmethod
    def _note(record, text):
        """The body of the last message of ``record`` that says ``text``."""
        bodies = [message.body for message in record.message_ids if text in (message.body or "")]
        return bodies[0] if bodies else ""

    def _entry_lines(self, writeoff):
        lines = writeoff.move_id.line_ids
        return {
            "receivable": lines.filtered(lambda line: line.account_type == "asset_receivable"),
            "expense": lines.filtered(lambda line: line.account_id == self.expense_account),
            "tax": lines.filtered(lambda line: line.account_id == self.tax_account),
        }

    # --- tests --- #
    def test_full_write_off_clears_the_item_and_moves_the_case(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids)

        self.assertEqual(writeoff.state, "posted")
        self.assertEqual(writeoff.move_id.state, "posted")
        self.assertEqual(writeoff.move_id.journal_id, self.misc_journal)
        lines = self._entry_lines(writeoff)
        self.assertEqual(len(writeoff.move_id.line_ids), 2)
        self.assertEqual(lines["receivable"].credit, 1000.0)
        self.assertEqual(lines["receivable"].account_id, self._item(invoice).account_id)
        self.assertEqual(lines["expense"].debit, 1000.0)
        self.assertEqual(
            sum(writeoff.move_id.line_ids.mapped("debit")),
            sum(writeoff.move_id.line_ids.mapped("credit")),
        )
        item = self._item(invoice)
        self.assertTrue(item.reconciled)
        self.assertEqual(item.amount_residual, 0.0)
        self.assertTrue(lines["receivable"].reconciled)
        self.assertEqual(invoice.payment_state, "paid")

        # The case stays, in Written Off, with what, by whom and why.
        self.assertEqual(case.stage_id, self.stage_written_off)
        self.assertFalse(case.is_closed)
        self.assertEqual(case.amount_written_off, 1000.0)
        self.assertEqual(case.writeoff_count, 1)
        self.assertEqual(writeoff.user_id, self.user_manager)
        self.assertEqual(writeoff.reason_id, self.reason_insolvency)
        note = self._note(case, "Written off")
        self.assertIn("Written off", note)
        self.assertIn("Insolvency", note)
        self.assertIn("Mona Manager", note)
        # The nightly sync leaves it there: written off is not recovered.
        self.Case._sync_cases()
        self.assertEqual(case.stage_id, self.stage_written_off)

        # New debt falling due brings the case back onto the ladder.
        self._invoice(self.customer, 50.0, days_late=5)
        self.Case._sync_cases()
        self.assertIn(case.stage_kind, ("current", "reminder"))
        self.assertEqual(case.amount_written_off, 1000.0)

    def test_partial_write_off(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        item = self._item(invoice)
        writeoff = self._write_off(
            default_case_ids=case.ids, amounts={item: 300.0}, reason=self.reason_settled
        )
        self.assertEqual(writeoff.amount_total, 300.0)
        self.assertEqual(self._entry_lines(writeoff)["receivable"].credit, 300.0)
        self.assertEqual(self._entry_lines(writeoff)["expense"].debit, 300.0)
        self.assertFalse(item.reconciled)
        self.assertEqual(item.amount_residual, 700.0)
        self.assertEqual(case.amount_overdue_company, 700.0)
        # Debt is still overdue: the case stays on the ladder.
        self.assertNotEqual(case.stage_id, self.stage_written_off)

    def test_vat_relief_pro_rata(self):
        self.company.debt_writeoff_vat_relief = True
        full = self._taxed_invoice(self.customer, 100.0, days_late=40)
        half = self._taxed_invoice(self.customer, 100.0, days_late=40)
        self.assertEqual(full.amount_total, 120.0)
        writeoff = self._write_off(
            default_move_line_ids=(self._item(full) | self._item(half)).ids,
            amounts={self._item(half): 60.0},
        )
        lines = self._entry_lines(writeoff)
        # 120 written off: 100 expense, 20 VAT; 60 of 120: 50 expense, 10 VAT.
        self.assertEqual(sorted(lines["receivable"].mapped("credit")), [60.0, 120.0])
        self.assertEqual(lines["tax"].debit, 30.0)
        self.assertEqual(lines["expense"].debit, 150.0)
        self.assertEqual(writeoff.amount_vat, 30.0)
        self.assertEqual(
            sorted(writeoff.line_ids.mapped("amount_vat")),
            [10.0, 20.0],
        )
        self.assertTrue(self._item(full).reconciled)
        self.assertEqual(self._item(half).amount_residual, 60.0)

    def _tax_tags(self, tax):
        """A tax report tag on each tax distribution line of ``tax``."""
        Tag = self.env["account.account.tag"]
        for index, repartition in enumerate(
            (tax.invoice_repartition_line_ids | tax.refund_repartition_line_ids).filtered(
                lambda r: r.repartition_type == "tax"
            )
        ):
            repartition.tag_ids = Tag.create(
                {"name": f"VAT grid {tax.id}-{index}", "applicability": "taxes"}
            )

    def test_vat_relief_reaches_the_tax_report(self):
        self.company.debt_writeoff_vat_relief = True
        self._tax_tags(self.tax_20)
        invoice = self._taxed_invoice(self.customer, 100.0, days_late=40)
        tax_line = invoice.line_ids.filtered(lambda line: line.display_type == "tax")
        refund = self.tax_20.refund_repartition_line_ids.filtered(
            lambda r: r.repartition_type == "tax"
        )
        self.assertEqual(tax_line.tax_base_amount, 100.0)
        writeoff = self._write_off(
            default_move_line_ids=self._item(invoice).ids, amounts={self._item(invoice): 60.0}
        )
        relief = self._entry_lines(writeoff)["tax"]
        # As a credit note of the invoice would: its refund distribution line
        # and tags, half of the base (60 of 120).
        self.assertEqual(relief.tax_repartition_line_id, refund)
        self.assertEqual(relief.tax_line_id, self.tax_20)
        self.assertEqual(relief.tax_tag_ids, refund.tag_ids)
        self.assertTrue(relief.tax_tag_ids)
        self.assertEqual(relief.tax_base_amount, 50.0)
        self.assertEqual(relief.debit, 10.0)
        self.assertEqual(writeoff.amount_vat, 10.0)

        # What comes back makes the VAT due again, on the invoice's line and tags.
        payment = self._unapplied_payment(self.customer, 30.0)
        recovery = (
            self.env["debt.recovery.writeoff.recovery"]
            .with_user(self.user_manager)
            ._debt_book(
                writeoff.case_id or self._case_of(self.customer), self._item(payment.move_id), 30.0
            )
        )
        due = recovery.move_id.line_ids.filtered("tax_repartition_line_id")
        self.assertEqual(due.tax_repartition_line_id, tax_line.tax_repartition_line_id)
        self.assertEqual(due.tax_tag_ids, tax_line.tax_tag_ids)
        self.assertTrue(due.tax_tag_ids)
        self.assertEqual(due.credit, 5.0)
        self.assertEqual(due.tax_base_amount, 25.0)
        self.assertEqual(recovery.amount_vat, 5.0)

    def test_vat_relief_foreign_currency_at_the_vat_declared(self):
        self.company.debt_writeoff_vat_relief = True
        invoice_date = self.today - timedelta(days=70)
        eur = self.setup_other_currency(
            "EUR", rates=[(invoice_date - timedelta(days=1), 2.0), (self.today, 2.5)]
        )
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "currency_id": eur.id,
                "invoice_date": invoice_date,
                "invoice_date_due": self.today - timedelta(days=40),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Consulting",
                            "quantity": 1,
                            "price_unit": 1000.0,
                            "tax_ids": [Command.set(self.tax_20.ids)],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        tax_line = invoice.line_ids.filtered(lambda line: line.display_type == "tax")
        # 200 EUR of VAT declared as 100 at the invoice's rate.
        self.assertEqual(tax_line.balance, -100.0)
        writeoff = self._write_off(default_move_line_ids=self._item(invoice).ids)
        lines = self._entry_lines(writeoff)
        self.assertEqual(lines["tax"].amount_currency, 200.0)
        self.assertEqual(lines["tax"].debit, 100.0)
        # 1200 EUR at today's 2.5 = 480 off the receivable, 380 of it expense.
        self.assertEqual(lines["receivable"].credit, 480.0)
        self.assertEqual(lines["expense"].debit, 380.0)
        self.assertEqual(lines["expense"].amount_currency, 1000.0)

    def test_vat_relief_skips_cash_basis_taxes(self):
        self.company.debt_writeoff_vat_relief = True
        self.company.tax_exigibility = True
        transition = self.env["account.account"].create(
            {
                "name": "VAT waiting for payment",
                "code": "445800",
                "account_type": "liability_current",
                "reconcile": True,
            }
        )
        cash_basis = self.tax_20.copy(
            {
                "name": "VAT 20 % on payment",
                "tax_exigibility": "on_payment",
                "cash_basis_transition_account_id": transition.id,
            }
        )
        invoice = self._taxed_invoice(self.customer, 100.0, days_late=40, tax=cash_basis)
        self.assertEqual(
            invoice.line_ids.filtered(lambda line: line.display_type == "tax").account_id,
            transition,
        )
        writeoff = self._write_off(default_move_line_ids=self._item(invoice).ids)
        # The VAT was never declared: nothing taken back, all of it is expense.
        self.assertFalse(writeoff.move_id.line_ids.filtered("tax_repartition_line_id"))
        self.assertFalse(
            writeoff.move_id.line_ids.filtered(lambda line: line.account_id == transition)
        )
        self.assertEqual(writeoff.amount_vat, 0.0)
        self.assertEqual(self._entry_lines(writeoff)["expense"].debit, 120.0)

    def test_without_vat_relief_the_vat_stays(self):
        invoice = self._taxed_invoice(self.customer, 100.0, days_late=40)
        writeoff = self._write_off(default_move_line_ids=self._item(invoice).ids)
        lines = self._entry_lines(writeoff)
        self.assertFalse(lines["tax"])
        self.assertEqual(lines["expense"].debit, 120.0)

    def test_above_threshold_waits_for_a_second_manager(self):
        self.company.debt_writeoff_approval_amount = 500.0
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        # The wizard says so before anything is written.
        wizard_form = Form(
            self.env["debt.recovery.writeoff.wizard"]
            .with_user(self.user_manager)
            .with_context(default_case_ids=case.ids)
        )
        self.assertEqual(wizard_form.amount_total_company, 1000.0)
        self.assertTrue(wizard_form.needs_approval)
        writeoff = self._write_off(default_case_ids=case.ids)
        self.assertEqual(writeoff.state, "to_approve")
        self.assertFalse(writeoff.move_id)
        self.assertFalse(self._item(invoice).reconciled)
        self.assertNotEqual(case.stage_id, self.stage_written_off)
        self.assertIn(self.user_manager_2, writeoff.activity_ids.user_id)
        self.assertNotIn(self.user_manager, writeoff.activity_ids.user_id)

        # Not by the manager who asked, not by a collector.
        with self.assertRaisesRegex(UserError, "another recovery manager"):
            writeoff.with_user(self.user_manager).action_approve()
        with self.assertRaisesRegex(UserError, "Only a recovery manager"):
            writeoff.with_user(self.user_collector).action_approve()
        # Nor changed behind the approver's back.
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            writeoff.line_ids.with_user(self.user_manager).write({"amount": 100.0})
        self.assertEqual(writeoff.state, "to_approve")

        writeoff.with_user(self.user_manager_2).action_approve()
        self.assertEqual(writeoff.state, "posted")
        self.assertEqual(writeoff.approved_by_id, self.user_manager_2)
        self.assertTrue(self._item(invoice).reconciled)
        self.assertEqual(case.stage_id, self.stage_written_off)
        self.assertFalse(writeoff.activity_ids)

    def test_threshold_not_dodged_by_splitting(self):
        self.company.debt_writeoff_approval_amount = 500.0
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        item = self._item(invoice)
        # 450 and 450 in two runs: 900 in 30 days, the second waits.
        first = self._write_off(default_move_line_ids=item.ids, amounts={item: 450.0})
        self.assertEqual(first.state, "posted")
        wizard_form = Form(
            self.env["debt.recovery.writeoff.wizard"]
            .with_user(self.user_manager)
            .with_context(default_move_line_ids=item.ids)
        )
        with wizard_form.line_ids.edit(0) as line_form:
            line_form.amount = 450.0
        self.assertTrue(wizard_form.needs_approval)
        second = self._write_off(default_move_line_ids=item.ids, amounts={item: 450.0})
        self.assertEqual(second.state, "to_approve")
        self.assertEqual(item.amount_residual, 550.0)
        # Once approved it counts as posted; one to approve counts as well.
        second.with_user(self.user_manager_2).action_approve()
        third = self._write_off(default_move_line_ids=item.ids, amounts={item: 10.0})
        self.assertEqual(third.state, "to_approve")

    def test_threshold_counts_thirty_days(self):
        self.company.debt_writeoff_approval_amount = 500.0
        invoice = self._invoice(self.customer, 1000.0, days_late=60)
        item = self._item(invoice)
        old = self._write_off(
            default_move_line_ids=item.ids,
            amounts={item: 300.0},
            date=self.today - timedelta(days=30),
        )
        self.assertEqual(old.state, "posted")
        # 300 thirty days ago is out of the window: 450 alone posts.
        recent = self._write_off(default_move_line_ids=item.ids, amounts={item: 450.0})
        self.assertEqual(recent.state, "posted")
        # 450 + 100 in the window: above 500.
        more = self._write_off(default_move_line_ids=item.ids, amounts={item: 100.0})
        self.assertEqual(more.state, "to_approve")
        # Another customer's write-offs do not count.
        other = self.env["res.partner"].create({"name": "Other Ltd", "is_company": True})
        other_item = self._item(self._invoice(other, 400.0, days_late=40))
        self.assertEqual(self._write_off(default_move_line_ids=other_item.ids).state, "posted")

    def test_below_threshold_posts_at_once(self):
        self.company.debt_writeoff_approval_amount = 500.0
        invoice = self._invoice(self.customer, 400.0, days_late=40)
        wizard_form = Form(
            self.env["debt.recovery.writeoff.wizard"]
            .with_user(self.user_manager)
            .with_context(default_move_line_ids=self._item(invoice).ids)
        )
        self.assertFalse(wizard_form.needs_approval)
        writeoff = self._write_off(default_move_line_ids=self._item(invoice).ids)
        self.assertEqual(writeoff.state, "posted")

    def test_locked_date_refused_nothing_created(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        self.company.fiscalyear_lock_date = self.today
        moves = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "locked"):
            self._write_off(default_case_ids=case.ids)
        self.assertFalse(self.env["debt.recovery.writeoff"].search([]))
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(self._item(invoice).amount_residual, 1000.0)
        self.assertNotEqual(case.stage_id, self.stage_written_off)

    def test_tax_lock_date_refuses_the_vat_relief(self):
        self.company.debt_writeoff_vat_relief = True
        invoice = self._taxed_invoice(self.customer, 100.0, days_late=40)
        self.company.tax_lock_date = self.today
        moves = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "locked"):
            self._write_off(default_move_line_ids=self._item(invoice).ids)
        self.assertFalse(self.env["debt.recovery.writeoff"].search([]))
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(self._item(invoice).amount_residual, 120.0)
        # Without the relief no VAT is touched: the tax lock does not apply.
        self.company.debt_writeoff_vat_relief = False
        writeoff = self._write_off(default_move_line_ids=self._item(invoice).ids)
        self.assertEqual(writeoff.state, "posted")
        self.assertEqual(writeoff.amount_vat, 0.0)

    def test_period_locked_before_the_approval(self):
        self.company.debt_writeoff_approval_amount = 500.0
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        writeoff = self._write_off(default_move_line_ids=self._item(invoice).ids)
        self.assertEqual(writeoff.state, "to_approve")
        self.company.fiscalyear_lock_date = self.today
        with self.assertRaisesRegex(UserError, "locked"):
            writeoff.with_user(self.user_manager_2).action_approve()
        self.assertEqual(writeoff.state, "to_approve")
        self.assertFalse(writeoff.move_id)
        self.assertFalse(writeoff.approved_by_id)
        self.assertEqual(self._item(invoice).amount_residual, 1000.0)

    def test_bad_input_refused(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        item = self._item(invoice)
        moves = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, r"only \$.1,000.00 is open"):
            self._write_off(default_move_line_ids=item.ids, amounts={item: 1000.01})
        with self.assertRaisesRegex(UserError, "must be positive"):
            self._write_off(default_move_line_ids=item.ids, amounts={item: 0.0})
        # An item of another customer in a write-off.
        other = self.env["res.partner"].create({"name": "Other Ltd", "is_company": True})
        other_item = self._item(self._invoice(other, 200.0, days_late=40))
        moves = self.env["account.move"].search_count([])
        Writeoff = self.env["debt.recovery.writeoff"].with_user(self.user_manager)
        writeoff = Writeoff.create(
            {
                "partner_id": self.customer.id,
                "currency_id": self.company.currency_id.id,
                "reason_id": self.reason_insolvency.id,
                "line_ids": [Command.create({"move_line_id": other_item.id, "amount": 200.0})],
            }
        )
        with self.assertRaisesRegex(UserError, "one customer"):
            writeoff._debt_submit()
        # A paid item is no longer open.
        self._pay(invoice)
        paid = Writeoff.create(
            {
                "partner_id": self.customer.id,
                "currency_id": self.company.currency_id.id,
                "reason_id": self.reason_insolvency.id,
                "line_ids": [Command.create({"move_line_id": item.id, "amount": 10.0})],
            }
        )
        with self.assertRaisesRegex(UserError, "not an open receivable"):
            paid._debt_submit()
        self.assertEqual((writeoff | paid).mapped("state"), ["draft", "draft"])
        # The payment is the only new entry.
        self.assertEqual(self.env["account.move"].search_count([]), moves + 1)
        # Accounts missing: a clear message.
        self.company.debt_writeoff_expense_account_id = False
        with self.assertRaisesRegex(UserError, "bad-debt expense account"):
            self._write_off(default_move_line_ids=other_item.ids)

    def test_foreign_currency_item(self):
        invoice_date = self.today - timedelta(days=70)
        eur = self.setup_other_currency(
            "EUR", rates=[(invoice_date - timedelta(days=1), 2.0), (self.today, 2.5)]
        )
        invoice = self._invoice(self.customer, 1000.0, days_late=40, currency=eur)
        item = self._item(invoice)
        self.assertEqual(item.balance, 500.0)
        writeoff = self._write_off(default_move_line_ids=item.ids)
        receivable = self._entry_lines(writeoff)["receivable"]
        self.assertEqual(receivable.currency_id, eur)
        self.assertEqual(receivable.amount_currency, -1000.0)
        # Today's rate: 1000 EUR = 400 in company currency.
        self.assertEqual(receivable.credit, 400.0)
        self.assertEqual(self._entry_lines(writeoff)["expense"].debit, 400.0)
        self.assertEqual(writeoff.amount_total_company, 400.0)
        self.assertTrue(item.reconciled)
        self.assertEqual(item.amount_residual_currency, 0.0)
        self.assertEqual(item.amount_residual, 0.0)
        # The 100 of exchange difference is Odoo's exchange entry.
        exchange = (
            item.full_reconcile_id.exchange_move_id | item.matched_credit_ids.exchange_move_id
        )
        self.assertTrue(exchange)
        self.assertEqual(sum(exchange.line_ids.mapped("debit")), 100.0)

    def test_board_selection_one_write_off_per_customer_and_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self.company.debt_writeoff_approval_amount = 450.0
        other = self.env["res.partner"].create({"name": "Other Ltd", "is_company": True})
        usd_item = self._item(self._invoice(self.customer, 300.0, days_late=40))
        eur_item = self._item(self._invoice(self.customer, 1000.0, days_late=40, currency=eur))
        other_item = self._item(self._invoice(other, 200.0, days_late=40))
        cases = self._case_of(self.customer) | self._case_of(other)
        writeoffs = self._write_off(default_case_ids=cases.ids)
        self.assertEqual(len(writeoffs), 3)
        by_item = {writeoff.line_ids.move_line_id: writeoff for writeoff in writeoffs}
        self.assertEqual(by_item[usd_item].currency_id, self.company.currency_id)
        self.assertEqual(by_item[eur_item].currency_id, eur)
        self.assertEqual(by_item[other_item].partner_id, other)
        # 1000 EUR = 500 in company currency: above the 450 to approve; the rest posts.
        self.assertEqual(by_item[eur_item].amount_total_company, 500.0)
        self.assertEqual(by_item[eur_item].state, "to_approve")
        self.assertEqual(by_item[usd_item].state, "posted")
        self.assertEqual(by_item[other_item].state, "posted")
        # The customer's EUR debt is still overdue: not Written Off yet.
        self.assertNotEqual(self._case_of(self.customer).stage_id, self.stage_written_off)
        self.assertEqual(self._case_of(other).stage_id, self.stage_written_off)
        by_item[eur_item].with_user(self.user_manager_2).action_approve()
        self.assertEqual(self._case_of(self.customer).stage_id, self.stage_written_off)
        self.assertEqual(self._case_of(self.customer).amount_written_off, 800.0)

    def test_reverse_a_write_off_made_by_mistake(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids)
        self.assertEqual(case.stage_id, self.stage_written_off)
        Reverse = self.env["debt.recovery.writeoff.reverse"]
        with self.assertRaises(AccessError):
            Reverse.with_user(self.user_collector).create(
                {"writeoff_id": writeoff.id, "reason": "Mistake"}
            )
        with self.assertRaisesRegex(UserError, "Say why"):
            writeoff.with_user(self.user_manager)._debt_reverse(" ")
        self.company.fiscalyear_lock_date = self.today
        with self.assertRaisesRegex(UserError, "locked"):
            writeoff.with_user(self.user_manager)._debt_reverse("Wrong customer")
        self.assertEqual(writeoff.state, "posted")
        self.company.fiscalyear_lock_date = False

        Reverse.with_user(self.user_manager).create(
            {"writeoff_id": writeoff.id, "reason": "Wrong customer"}
        ).action_confirm()
        self.assertEqual(writeoff.state, "reversed")
        self.assertEqual(writeoff.reversal_move_id.state, "posted")
        item = self._item(invoice)
        self.assertFalse(item.reconciled)
        self.assertEqual(item.amount_residual, 1000.0)
        # Owed again: back on the ladder, nothing written off on the case.
        self.assertNotEqual(case.stage_id, self.stage_written_off)
        self.assertEqual(case.amount_written_off, 0.0)
        self.assertEqual(case.amount_overdue_company, 1000.0)
        self.assertIn("Wrong customer", self._note(case, "reversed by Mona Manager"))
        with self.assertRaisesRegex(UserError, "only a posted write-off"):
            writeoff.with_user(self.user_manager)._debt_reverse("Again")

    def test_entries_not_undone_by_hand(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids, amounts={self._item(invoice): 600.0})
        move = writeoff.move_id
        # Not reset to draft, reversed or deleted by hand (even as superuser).
        with self.assertRaisesRegex(UserError, "Reverse action of the write-off"):
            move.button_draft()
        with self.assertRaisesRegex(UserError, "Reverse action of the write-off"):
            move._reverse_moves([{"date": self.today}], cancel=True)
        with self.assertRaisesRegex(UserError, "cannot be reset to draft, deleted or reversed"):
            self.env["account.move.reversal"].with_context(
                active_model="account.move", active_ids=move.ids
            ).create({"journal_id": move.journal_id.id, "date": self.today}).refund_moves()
        self.assertEqual(move.state, "posted")
        self.assertFalse(move.reversal_move_ids)
        self.assertEqual(writeoff.state, "posted")

        payment = self._unapplied_payment(self.customer, 100.0)
        payment_line = self._item(payment.move_id)
        Recovery = self.env["debt.recovery.writeoff.recovery"].with_user(self.user_manager)
        recovery = Recovery._debt_book(case, payment_line, 60.0)
        with self.assertRaisesRegex(UserError, "the recovery would stay booked"):
            recovery.move_id.button_draft()
        with self.assertRaisesRegex(UserError, "the recovery would stay booked"):
            recovery.move_id._reverse_moves([{"date": self.today}])
        self.assertEqual(recovery.move_id.state, "posted")

        # The write-off entry unmatched from the invoice by hand: the invoice
        # is owed again, nothing more is recovered on the write-off.
        entry_line = self._item(move)
        entry_line.remove_move_reconcile()
        self.assertEqual(self._item(invoice).amount_residual, 1000.0)
        moves = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "no longer matched"):
            Recovery._debt_book(case, payment_line, 40.0)
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(payment_line.amount_residual, -40.0)

    def test_recovery_not_created_or_changed_by_hand(self):
        self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids)
        Recovery = self.env["debt.recovery.writeoff.recovery"].with_user(self.user_manager)
        with self.assertRaisesRegex(UserError, "cannot be created by hand"):
            Recovery.create({"writeoff_id": writeoff.id, "date": self.today, "amount": 400.0})
        self.assertFalse(writeoff.recovery_ids)
        self.assertEqual(writeoff.amount_recoverable, 1000.0)
        self.assertEqual(case.amount_recovered, 0.0)
        payment = self._unapplied_payment(self.customer, 100.0)
        recovery = Recovery._debt_book(case, self._item(payment.move_id), 100.0)
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            recovery.write({"amount": 900.0})
        self.assertEqual(recovery.amount, 100.0)
        self.assertEqual(writeoff.amount_recoverable, 900.0)

    def test_items_with_an_agency_or_a_lawyer_are_not_written_off(self):
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        policy.write(
            {
                "writeoff_small_balances": True,
                "writeoff_small_amount": 10.0,
                "writeoff_small_days": 30,
            }
        )
        self.company.debt_agency_clearing_account_id = self.env["account.account"].create(
            {
                "name": "Agency clearing",
                "code": "499100",
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        agency = self.env["debt.recovery.agency"].create(
            {
                "partner_id": self.env["res.partner"].create({"name": "Recover-All"}).id,
                "commission_percent": 15.0,
                "announce_letter": False,
            }
        )
        Partner = self.env["res.partner"]
        handed, sued = (
            Partner.create({"name": name, "is_company": True})
            for name in ("Handed Ltd", "Sued Ltd")
        )
        handed_item = self._item(self._invoice(handed, 8.0, days_late=60))
        sued_item = self._item(self._invoice(sued, 8.0, days_late=60))
        self.env["debt.recovery.agency.handoff.wizard"].with_user(self.user_manager).with_context(
            active_model="debt.recovery.case", active_ids=self._case_of(handed).ids
        ).create({"agency_id": agency.id}).action_hand_off()
        self.env["debt.recovery.legal.action"].with_user(self.user_manager).with_context(
            default_case_id=self._case_of(sued).id
        ).create({"lawyer_id": Partner.create({"name": "Lawyer"}).id, "court": "Lyon"})
        self.assertTrue(handed_item.debt_agency_handoff_id)
        self.assertTrue(sued_item.debt_legal_action_id)
        moves = self.env["account.move"].search_count([])

        with self.assertRaisesRegex(UserError, "recall it from the agency"):
            self._write_off(default_move_line_ids=handed_item.ids)
        with self.assertRaisesRegex(UserError, "close the legal action"):
            self._write_off(default_move_line_ids=sued_item.ids)
        # The nightly small-balance write-off leaves them alone too.
        self.env.ref(
            "debt_recovery.ir_cron_debt_recovery_write_off_small_balances"
        ).method_direct_trigger()
        self.assertFalse(self.env["debt.recovery.writeoff"].search([]))
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertFalse((handed_item | sued_item).filtered("reconciled"))

        # Recalled from the agency, it can be written off.
        handed_item.debt_agency_handoff_id.with_user(self.user_manager).action_recall()
        writeoff = self._write_off(default_move_line_ids=handed_item.ids)
        self.assertEqual(writeoff.state, "posted")

    def test_recovery_in_another_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        invoice = self._invoice(self.customer, 1000.0, days_late=40, currency=eur)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids)
        self.assertEqual((writeoff.currency_id, writeoff.amount_total), (eur, 1000.0))
        # The customer pays 300 in company currency: 600 EUR come back.
        payment_line = self._item(self._unapplied_payment(self.customer, 300.0).move_id)
        wizard = (
            self.env["debt.recovery.writeoff.recover"]
            .with_user(self.user_manager)
            .create({"case_id": case.id, "payment_line_id": payment_line.id})
        )
        self.assertEqual(wizard.amount, 300.0)
        wizard.action_confirm()
        recovery = writeoff.recovery_ids
        self.assertEqual((recovery.amount, recovery.amount_company), (600.0, 300.0))
        self.assertEqual(writeoff.amount_recoverable, 400.0)
        self.assertEqual(case.amount_recovered, 300.0)
        self.assertTrue(payment_line.reconciled)
        income = recovery.move_id.line_ids.filtered(
            lambda line: line.account_id == self.recovered_account
        )
        self.assertEqual((income.currency_id, income.amount_currency), (eur, -600.0))
        self.assertEqual(income.credit, 300.0)
        # 250 more would be 500 EUR: more than the 400 EUR left.
        second = self._item(self._unapplied_payment(self.customer, 250.0).move_id)
        Recovery = self.env["debt.recovery.writeoff.recovery"].with_user(self.user_manager)
        with self.assertRaisesRegex(UserError, "more than the"):
            Recovery._debt_book(case, second, 250.0)
        self.assertEqual(len(writeoff.recovery_ids), 1)
        self.assertEqual(invoice.payment_state, "paid")

    def test_recovery_on_the_write_offs_given(self):
        first, second = (
            self._invoice(self.customer, amount, days_late=40) for amount in (100.0, 200.0)
        )
        case = self._case_of(self.customer)
        old = self._write_off(default_move_line_ids=self._item(first).ids)
        handed = self._write_off(default_move_line_ids=self._item(second).ids)
        payment_line = self._item(self._unapplied_payment(self.customer, 150.0).move_id)
        Recovery = self.env["debt.recovery.writeoff.recovery"].with_user(self.user_manager)
        # An agency's collection goes to the write-offs it was handed only.
        recovery = Recovery._debt_book(case, payment_line, 150.0, writeoffs=handed)
        self.assertEqual(recovery.writeoff_id, handed)
        self.assertEqual(old.amount_recoverable, 100.0)
        self.assertEqual(handed.amount_recoverable, 50.0)

    def test_small_balance_without_a_case_gets_one(self):
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        policy.write(
            {
                "writeoff_small_balances": True,
                "writeoff_small_amount": 10.0,
                "writeoff_small_days": 30,
            }
        )
        invoice = self._invoice(self.customer, 8.0, days_late=60, post=False)
        invoice.with_context(debt_recovery_skip_sync=True).action_post()
        self.assertFalse(self._case_of(self.customer))
        self.env.ref(
            "debt_recovery.ir_cron_debt_recovery_write_off_small_balances"
        ).method_direct_trigger()
        writeoff = self.env["debt.recovery.writeoff"].search([])
        self.assertEqual(writeoff.state, "posted")
        case = self._case_of(self.customer)
        self.assertEqual(writeoff.case_id, case)
        self.assertEqual(case.stage_id, self.stage_written_off)
        # What comes back later is recovered on it.
        payment_line = self._item(self._unapplied_payment(self.customer, 8.0).move_id)
        self.env["debt.recovery.writeoff.recovery"].with_user(self.user_manager)._debt_book(
            case, payment_line, 8.0
        )
        self.assertEqual(writeoff.amount_recoverable, 0.0)
        self.assertEqual(case.amount_recovered, 8.0)

    def test_default_journal_is_the_miscellaneous_one(self):
        self.company.debt_writeoff_journal_id = False
        exchange = self.company.currency_exchange_journal_id
        self.assertTrue(exchange)
        exchange.sequence = -10
        invoice = self._invoice(self.customer, 100.0, days_late=40)
        writeoff = self._write_off(default_move_line_ids=self._item(invoice).ids)
        self.assertEqual(writeoff.move_id.journal_id, self.misc_journal)

    def test_small_balance_cron(self):
        policy = self.env["debt.recovery.policy"]._get_company_defaults(self.company)[self.company]
        policy.write(
            {
                "writeoff_small_balances": True,
                "writeoff_small_amount": 10.0,
                "writeoff_small_days": 30,
            }
        )
        Partner = self.env["res.partner"]
        small, recent, large, credited = (
            Partner.create({"name": name, "is_company": True})
            for name in ("Small Ltd", "Recent Ltd", "Large Ltd", "Credited Ltd")
        )
        small_item = self._item(self._invoice(small, 8.0, days_late=60))
        recent_item = self._item(self._invoice(recent, 8.0, days_late=10))
        large_item = self._item(self._invoice(large, 50.0, days_late=60))
        credited_item = self._item(self._invoice(credited, 8.0, days_late=60))
        self._credit_note(credited, 3.0)
        promised = Partner.create({"name": "Promised Ltd", "is_company": True})
        promised_item = self._item(self._invoice(promised, 8.0, days_late=60))
        self.env["debt.recovery.promise"].create(
            {
                "partner_id": promised.id,
                "move_line_ids": [Command.set(promised_item.ids)],
                "amount": 8.0,
                "date_promised": self.today + timedelta(days=5),
            }
        )

        cron = self.env.ref("debt_recovery.ir_cron_debt_recovery_write_off_small_balances")
        cron.method_direct_trigger()
        writeoff = self.env["debt.recovery.writeoff"].search([])
        self.assertEqual(writeoff.partner_id, small)
        self.assertTrue(writeoff.automatic)
        self.assertEqual(writeoff.state, "posted")
        self.assertEqual(
            writeoff.reason_id, self.env.ref("debt_recovery.writeoff_reason_uneconomic")
        )
        self.assertTrue(small_item.reconciled)
        self.assertFalse(
            (recent_item | large_item | credited_item | promised_item).filtered("reconciled")
        )
        case = writeoff.case_id
        self.assertEqual(case.stage_id, self.stage_written_off)
        self.assertIn("written off automatically", self._note(case, "Small balance"))

        # A locked period: skipped and said on the case.
        other = Partner.create({"name": "Locked Ltd", "is_company": True})
        locked_item = self._item(self._invoice(other, 5.0, days_late=60))
        self.company.fiscalyear_lock_date = self.today
        cron.method_direct_trigger()
        self.assertFalse(locked_item.reconciled)
        self.assertFalse(self.env["debt.recovery.writeoff"].search([("partner_id", "=", other.id)]))
        self.assertIn("locked", self._note(self._case_of(other), "not written off"))

    def test_payment_after_write_off_books_the_recovery(self):
        self.company.debt_writeoff_vat_relief = True
        invoice = self._taxed_invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids)
        self.assertEqual(writeoff.amount_total, 1200.0)
        self.assertEqual(writeoff.amount_vat, 200.0)
        self.assertEqual(case.stage_id, self.stage_written_off)

        payment = self._unapplied_payment(self.customer, 600.0)
        payment_line = payment.move_id.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        # A collector cannot book it.
        with self.assertRaises(AccessError):
            self.env["debt.recovery.writeoff.recover"].with_user(self.user_collector).create(
                {"case_id": case.id, "payment_line_id": payment_line.id}
            ).action_confirm()
        wizard = (
            self.env["debt.recovery.writeoff.recover"]
            .with_user(self.user_manager)
            .create({"case_id": case.id, "payment_line_id": payment_line.id})
        )
        self.assertEqual(wizard.amount, 600.0)
        wizard.action_confirm()

        recovery = writeoff.recovery_ids
        self.assertEqual(recovery.amount, 600.0)
        self.assertEqual(recovery.amount_vat, 100.0)
        lines = recovery.move_id.line_ids
        income = lines.filtered(lambda line: line.account_id == self.recovered_account)
        vat = lines.filtered(lambda line: line.account_id == self.tax_account)
        debit = lines.filtered(lambda line: line.account_type == "asset_receivable")
        # 600 recovered of 1200 written off with 200 VAT: 500 income, 100 VAT again.
        self.assertEqual(income.credit, 500.0)
        self.assertEqual(vat.credit, 100.0)
        self.assertEqual(debit.debit, 600.0)
        self.assertTrue(payment_line.reconciled)
        self.assertTrue(debit.reconciled)
        self.assertEqual(case.amount_recovered, 600.0)
        self.assertEqual(case.amount_written_off, 1200.0)
        self.assertAlmostEqual(case.recovery_rate, 50.0)
        self.assertEqual(writeoff.amount_recoverable, 600.0)
        self.assertIn("50.0 %", self._note(case, "Recovered on written-off debt"))
        # The case stays Written Off; the invoice stays settled.
        self.assertEqual(case.stage_id, self.stage_written_off)
        self.assertEqual(invoice.payment_state, "paid")

        # More than is left unrecovered is refused, nothing booked.
        second = self._unapplied_payment(self.customer, 700.0)
        second_line = second.move_id.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        with self.assertRaisesRegex(UserError, "more than the"):
            self.env["debt.recovery.writeoff.recovery"].with_user(self.user_manager)._debt_book(
                case, second_line, 700.0
            )
        self.assertEqual(len(writeoff.recovery_ids), 1)
        self.assertFalse(second_line.reconciled)
        # Money came back on it: the write-off is no longer reversed.
        with self.assertRaisesRegex(UserError, "was recovered"):
            writeoff.with_user(self.user_manager)._debt_reverse("Mistake")

        # The report: written off and recovered per reason.
        Report = self.env["debt.recovery.writeoff.report"]
        self.env.flush_all()
        rows = Report._read_group(
            [("partner_id", "=", self.customer.id)],
            ["reason_id"],
            ["amount_written_off:sum", "amount_recovered:sum"],
        )
        self.assertEqual(rows, [(self.reason_insolvency, 1200.0, 600.0)])
        self.assertEqual(
            Report.with_user(self.user_collector).search_count(
                [("partner_id", "=", self.customer.id)]
            ),
            2,
        )

    def test_access(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        with self.assertRaisesRegex(UserError, "Only a recovery manager"):
            case.with_user(self.user_collector).action_open_writeoff_wizard()
        with self.assertRaises(AccessError):
            self._write_off(user=self.user_collector, default_case_ids=case.ids)
        with self.assertRaises(AccessError):
            self.env["debt.recovery.writeoff"].with_user(self.user_collector).create(
                {
                    "partner_id": self.customer.id,
                    "currency_id": self.company.currency_id.id,
                    "reason_id": self.reason_insolvency.id,
                }
            )
        self.assertFalse(self._item(invoice).reconciled)
        writeoff = self._write_off(default_case_ids=case.ids)
        # A collector sees it (and its case's figures), changes nothing.
        as_collector = writeoff.with_user(self.user_collector)
        self.assertEqual(as_collector.amount_total, 1000.0)
        self.assertEqual(case.with_user(self.user_collector).amount_written_off, 1000.0)
        with self.assertRaises(AccessError):
            as_collector.write({"note": "changed"})
        with self.assertRaisesRegex(UserError, "Only a recovery manager"):
            as_collector.action_cancel()
        # Posted: no cancel, no delete.
        with self.assertRaisesRegex(UserError, "not yet posted"):
            writeoff.with_user(self.user_manager).action_cancel()
        with self.assertRaises(AccessError):
            writeoff.with_user(self.user_manager).unlink()
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            writeoff.sudo().unlink()

    def test_other_company_manager_sees_nothing(self):
        self._invoice(self.customer, 1000.0, days_late=40)
        writeoff = self._write_off(default_case_ids=self._case_of(self.customer).ids)
        other = self.setup_other_company(name="Other Co")["company"]
        stranger = self._other_company_manager(other)
        self.assertFalse(
            self.env["debt.recovery.writeoff"]
            .with_user(stranger)
            .search([("id", "=", writeoff.id)])
        )
        self.assertFalse(
            self.env["debt.recovery.writeoff.report"]
            .with_user(stranger)
            .search([("writeoff_id", "=", writeoff.id)])
        )


@tagged("post_install", "-at_install")
class TestWriteoffEvidencePack(WriteoffCommon, HttpCase):
    """The evidence pack of a written-off case, rendered for real."""

    def test_evidence_pack_shows_the_write_off_and_the_recovery(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        self._pay(invoice, amount=250.0)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids)
        self.assertEqual(writeoff.amount_total, 750.0)
        payment = self._unapplied_payment(self.customer, 300.0)
        self.env["debt.recovery.writeoff.recovery"].with_user(self.user_manager)._debt_book(
            case, self._item(payment.move_id), 300.0
        )
        case.with_user(self.user_manager).with_context(
            force_report_rendering=True
        ).action_evidence_pack()
        pdf = case.evidence_pack_ids.pdf_attachment_id.raw
        self.assertTrue(pdf.startswith(b"%PDF-"))
        text = " ".join(
            subprocess.run(
                ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
            )
            .stdout.decode()
            .split()
        )
        self.assertRegex(text, r"\d+\. Debt Written Off and Recovered Since \d+")
        self.assertIn("Insolvency", text)
        self.assertIn("requested by Mona Manager", text)
        self.assertIn("Administrator's letter of 1 December", text)
        self.assertIn(writeoff.move_id.name, text)
        self.assertIn(payment.move_id.name, text)
        self.assertIn("(40.0 %)", text)
        # Still claimed: 750 written off less 300 recovered.
        self.assertIn("Principal written off in our accounts, still owed $ 450.00", text)
        # The write-off is no payment received; the real payment is one.
        self.assertIn("Written off (no payment)", text)
        self.assertRegex(text, r"Payment \S+ " + re.escape(invoice.name) + r" \$ 250\.00")
