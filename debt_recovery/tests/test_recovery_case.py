from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestRecoveryCase(DebtRecoveryCommon):
    def test_case_opens_for_overdue_customer_only(self):
        on_time = self.env["res.partner"].create({"name": "Prompt Co", "is_company": True})
        self._invoice(on_time, 500.0, days_late=-10)
        invoice = self._invoice(self.customer, 1200.0, days_late=10)

        self.assertFalse(self._case_of(on_time), "Nothing overdue: no case.")
        case = self._case_of(self.customer)
        self.assertEqual(len(case), 1)
        self.assertEqual(case.origin, "auto")
        self.assertEqual(case.stage_id, self.stage_current)
        self.assertTrue(case.name.startswith("REC/"))
        self.assertEqual(case.amount_due, 1200.0)
        self.assertEqual(case.amount_overdue, 1200.0)
        self.assertEqual(case.oldest_overdue_days, 10)
        self.assertEqual(case.overdue_invoice_ids, invoice)
        self.assertIn("Case opened", case.message_ids.mapped("body")[-1])

    def test_contacts_and_invoices_grouped_in_one_case(self):
        inv_contact = self._invoice(self.customer_contact, 300.0, days_late=5)
        inv_company = self._invoice(self.customer, 700.0, days_late=20)
        not_due = self._invoice(self.customer, 100.0, days_late=-5)
        cases = self.Case.search([("partner_id", "child_of", self.customer.id)])
        self.assertEqual(len(cases), 1, "One case per commercial partner and company.")
        self.assertEqual(cases.partner_id, self.customer)
        self.assertEqual(cases.amount_due, 1100.0)
        self.assertEqual(cases.amount_overdue, 1000.0)
        self.assertEqual(cases.oldest_overdue_days, 20)
        self.assertEqual(cases.overdue_invoice_ids, inv_contact | inv_company)
        self.assertIn(not_due.line_ids.filtered("debit"), cases.move_line_ids)

    def test_amounts_in_each_currency_converted(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self._invoice(self.customer, 1000.0, days_late=15, currency=eur)
        self._invoice(self.customer, 250.0, days_late=3)
        case = self._case_of(self.customer)
        # 1000 EUR at 2 EUR per company unit = 500 in company currency.
        self.assertAlmostEqual(case.amount_overdue, 750.0)
        self.assertAlmostEqual(case.amount_due, 750.0)
        summary = str(case.currency_summary)
        self.assertIn("EUR", summary)
        self.assertIn(self.company.currency_id.name, summary)

    def test_case_closes_as_recovered_when_paid_and_reopens(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=30)
        case = self._case_of(self.customer)

        self._pay(invoice, amount=400.0)
        self.assertFalse(case.is_closed, "Partly paid: still overdue.")
        self.assertAlmostEqual(case.amount_overdue, 600.0)

        payment_rest = self._pay(invoice)
        self.assertTrue(case.is_closed)
        self.assertEqual(case.stage_id, self.stage_closed)
        self.assertEqual(case.date_closed, self.today)
        self.assertEqual(case.amount_overdue, 0.0)
        self.assertTrue(
            any("Closed as recovered" in body for body in case.message_ids.mapped("body"))
        )

        # The last payment bounces: cancelled (unreconciled on the way), the
        # debt is overdue again. (Only unreconciled, it would be an open credit
        # of the customer, deducted from what is overdue.)
        payment_rest.action_draft()
        payment_rest.action_cancel()
        new_case = self._case_of(self.customer)
        self.assertTrue(new_case, "A new case opens for the debt overdue again.")
        self.assertNotEqual(new_case, case, "The closed case stays as history.")
        self.assertAlmostEqual(new_case.amount_overdue, 600.0)
        self.assertEqual(new_case.oldest_due_date, invoice.invoice_date_due)
        # The old case gave its items to the new one: its stored amounts follow.
        self.env.flush_all()
        case.invalidate_recordset()
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.assertEqual(receivable.debt_case_id, new_case)
        self.assertNotIn(receivable, case.move_line_ids)
        self.assertFalse(case.oldest_due_date, "Nothing left to recover in the old case.")

    def test_cron_opens_case_when_an_invoice_falls_due(self):
        invoice = self._invoice(self.customer, 800.0, days_late=-5)
        self.assertFalse(self._case_of(self.customer))
        with freeze_time(self.today + timedelta(days=6)):
            self.env.ref("debt_recovery.ir_cron_debt_recovery_sync_cases").method_direct_trigger()
            case = self._case_of(self.customer)
            self.assertEqual(case.overdue_invoice_ids, invoice)
            self.assertEqual(case.oldest_overdue_days, 1)
        # Running it again creates nothing more.
        with freeze_time(self.today + timedelta(days=7)):
            self.Case._cron_sync_cases()
            self.assertEqual(self.Case.search_count([("partner_id", "=", self.customer.id)]), 1)

    def test_open_case_by_hand(self):
        case = self.Case.create({"partner_id": self.customer.id})
        self.assertEqual(case.origin, "manual")
        self.assertEqual(case.company_id, self.company)
        self.Case._cron_sync_cases()
        self.assertFalse(case.is_closed, "A case opened by hand stays open without a payment.")
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.Case.create({"partner_id": self.customer.id})
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.Case.create({"partner_id": self.customer_contact.id})
        # Overdue items of the customer join the existing case.
        invoice = self._invoice(self.customer, 90.0, days_late=2)
        self.assertEqual(case.overdue_invoice_ids, invoice)
        self.assertEqual(self.Case.search_count([("partner_id", "=", self.customer.id)]), 1)

    def test_stage_change_is_logged_with_reason(self):
        self._invoice(self.customer, 100.0, days_late=40)
        case = self._case_of(self.customer).with_user(self.user_collector)
        wizard_form = Form(
            self.env["debt.recovery.stage.change"]
            .with_user(self.user_collector)
            .with_context(default_case_ids=case.ids)
        )
        wizard_form.stage_id = self.stage_formal_notice
        wizard_form.reason = "  "
        wizard = wizard_form.save()
        with self.assertRaises(UserError):
            wizard.action_apply()
        self.assertEqual(case.stage_id, self.stage_current, "Refused: nothing changed.")

        wizard.reason = "No answer to two reminders"
        wizard.action_apply()
        self.assertEqual(case.stage_id, self.stage_formal_notice)
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values are written at commit time
        tracking = case.sudo().message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "stage_id"
            and t.new_value_integer == self.env.ref("debt_recovery.stage_formal_notice").id
        )
        self.assertEqual(len(tracking), 1)
        self.assertEqual(tracking.old_value_char, self.stage_current.name)
        self.assertEqual(tracking.new_value_char, self.stage_formal_notice.name)
        self.assertEqual(tracking.mail_message_id.author_id, self.user_collector.partner_id)
        self.assertTrue(
            any("No answer to two reminders" in body for body in case.message_ids.mapped("body"))
        )

    def test_call_log_and_next_action(self):
        self._invoice(self.customer, 100.0, days_late=8)
        case = self._case_of(self.customer)
        Wizard = self.env["debt.recovery.call.log"].with_user(self.user_collector)
        with self.assertRaises(UserError):
            Wizard.create(
                {
                    "case_id": case.id,
                    "outcome": "reached",
                    "next_action_date": self.today - timedelta(days=1),
                }
            ).action_log()
        self.assertFalse(case.next_action_date)
        Wizard.create(
            {
                "case_id": case.id,
                "contact_id": self.customer_contact.id,
                "outcome": "promised",
                "note": "Will pay on Friday",
                "next_action_date": self.today + timedelta(days=4),
                "next_action_note": "Check the payment",
            }
        ).action_log()
        self.assertEqual(case.next_action_date, self.today + timedelta(days=4))
        body = case.message_ids[0].body
        self.assertIn("Promised to pay", body)
        self.assertIn("Will pay on Friday", body)
        self.assertIn("Lucy Late", body)
        # A promise heard on the phone is taken down right away.
        action = Wizard.create({"case_id": case.id, "outcome": "promised"}).action_log()
        self.assertEqual(action["res_model"], "debt.recovery.promise")

    def test_board_shows_every_stage_and_folds(self):
        self._invoice(self.customer, 100.0, days_late=8)
        groups = self.Case.web_read_group([], ["amount_due:sum"], ["stage_id"])["groups"]
        stage_ids = [group["stage_id"][0] for group in groups]
        self.assertEqual(stage_ids, self.Stage.search([]).ids, "Empty stages are shown too.")
        current = next(g for g in groups if g["stage_id"][0] == self.stage_current.id)
        self.assertGreaterEqual(current["amount_due"], 100.0)
        closed = next(g for g in groups if g["stage_id"][0] == self.stage_closed.id)
        self.assertTrue(closed["__fold"])

    def test_search_days_overdue(self):
        self._invoice(self.customer, 100.0, days_late=45)
        other = self.env["res.partner"].create({"name": "Recent Ltd", "is_company": True})
        self._invoice(other, 100.0, days_late=5)
        case_old, case_new = self._case_of(self.customer), self._case_of(other)
        found = self.Case.search([("oldest_overdue_days", ">", 30)])
        self.assertIn(case_old, found)
        self.assertNotIn(case_new, found)
        self.assertIn(case_new, self.Case.search([("oldest_overdue_days", "<=", 5)]))
        self.assertIn(case_old, self.Case.search([("oldest_overdue_days", "=", 45)]))

    # --- the board: column totals --- #
    def _board(self, cases):
        """{stage: (column total, [card amounts])} as the board reads them:
        the column's aggregate (web_read_group) and each card's field."""
        domain = [("id", "in", cases.ids)]
        # A new request: nothing cached from before (the date may have moved).
        self.env.invalidate_all()
        groups = self.Case.web_read_group(domain, ["amount_overdue_company:sum"], ["stage_id"])
        cards = self.Case.web_search_read(
            domain, {"stage_id": {}, "amount_overdue_company": {}, "amount_overdue": {}}
        )["records"]
        board = {}
        for group in groups["groups"]:
            if not group["stage_id_count"]:
                continue
            stage_id = group["stage_id"][0]
            board[stage_id] = (
                group["amount_overdue_company"],
                sorted(c["amount_overdue_company"] for c in cards if c["stage_id"] == stage_id),
            )
            for card in cards:
                # The stored figure the board sums is today's overdue, net of credits.
                self.assertAlmostEqual(card["amount_overdue_company"], card["amount_overdue"])
        return board

    def test_board_column_total_sums_the_cards_overdue(self):
        """A column's total is the sum of what its cards show, the overdue
        amount net of credits (not the total due), after a payment and the
        next day, when an invoice due today falls overdue."""
        second = self.env["res.partner"].create({"name": "Second Late Co", "is_company": True})
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        self._invoice(self.customer, 400.0, days_late=0)
        self._credit_note(self.customer, 150.0)
        self._invoice(second, 300.0, days_late=5)
        case, second_case = self._case_of(self.customer), self._case_of(second)
        cases = case | second_case
        self.assertEqual(case.amount_due, 1250.0, "Total due: the invoices less the credit.")
        self.assertEqual(self._board(cases), {self.stage_current.id: (1150.0, [300.0, 850.0])})

        self._pay(invoice, amount=400.0)
        self.assertEqual(self._board(cases), {self.stage_current.id: (750.0, [300.0, 450.0])})

        # The next day the invoice due today is overdue: the nightly case sync
        # brings the stored figure to it.
        with freeze_time(self.today + timedelta(days=1)):
            self.Case._cron_sync_cases()
            self.assertEqual(self._board(cases), {self.stage_current.id: (1150.0, [300.0, 850.0])})
            # The card moved with its case: the columns follow.
            case.with_user(self.user_collector).write({"stage_id": self.stage_reminder.id})
            self.assertEqual(
                self._board(cases),
                {self.stage_current.id: (300.0, [300.0]), self.stage_reminder.id: (850.0, [850.0])},
            )
