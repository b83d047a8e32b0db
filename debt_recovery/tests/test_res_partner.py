from lxml import html

from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestResPartner(DebtRecoveryCommon):
    def test_nothing_to_explain_when_all_due_is_overdue(self):
        self._invoice(self.customer, 500.0, days_late=20)
        self.assertEqual(self.customer.debt_amount_due, self.customer.debt_amount_overdue)
        self.assertFalse(self.customer.debt_amount_breakdown)

    def test_customer_form_figures(self):
        invoice = self._invoice(self.customer_contact, 900.0, days_late=25)
        self._invoice(self.customer, 100.0, days_late=-10)
        case = self._case_of(self.customer)
        for partner in (self.customer, self.customer_contact):
            self.assertEqual(partner.debt_case_id, case)
            self.assertEqual(partner.debt_stage_id, self.stage_current)
            self.assertEqual(partner.debt_amount_overdue, 900.0)
            self.assertEqual(partner.debt_amount_due, 1000.0)
            self.assertEqual(partner.debt_oldest_overdue_days, 25)
            self.assertEqual(partner.debt_overdue_invoice_ids, invoice)
            self.assertEqual(partner.debt_case_count, 1)
        Partner = self.env["res.partner"]
        self.assertIn(
            self.customer, Partner.search([("debt_stage_id", "=", self.stage_current.id)])
        )
        # Paid: the case closes and stays in the count; a new debt opens another.
        self._pay(invoice)
        self.customer.invalidate_recordset()
        self.assertTrue(case.is_closed)
        self.assertFalse(self.customer.debt_case_id)
        self.assertFalse(self.customer.debt_stage_id)
        self.assertEqual(self.customer.debt_case_count, 1)
        self._invoice(self.customer, 50.0, days_late=3)
        self.customer.invalidate_recordset()
        new_case = self._case_of(self.customer)
        self.assertNotEqual(new_case, case)
        self.assertEqual(self.customer.debt_case_id, new_case)
        self.assertEqual(self.customer.debt_case_count, 2)

    def test_actions_from_customer_form(self):
        partner = self.customer.with_user(self.user_collector)
        self.assertFalse(partner.debt_case_id)
        action = partner.action_debt_open_case()
        case = self.Case.browse(action["res_id"])
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(case.origin, "manual")
        self.assertEqual(partner.action_debt_open_case()["res_id"], case.id, "No second case.")
        self.assertEqual(partner.action_debt_log_call()["context"]["default_case_id"], case.id)
        self.assertEqual(
            partner.action_debt_change_stage()["context"]["default_case_ids"], case.ids
        )
        schedule = partner.action_debt_schedule_next_action()
        self.assertEqual(schedule["res_model"], "mail.activity.schedule")
        self.assertEqual(schedule["context"]["active_ids"], case.ids)

    def test_other_company_not_mixed(self):
        company_2 = self.setup_other_company()["company"]
        self._invoice(self.customer, 400.0, days_late=12, company=company_2)
        self.assertFalse(self._case_of(self.customer))
        self.assertTrue(self._case_of(self.customer, company_2))
        self.assertEqual(self.customer.debt_amount_overdue, 0.0)
        self.assertEqual(self.customer.with_company(company_2).debt_amount_overdue, 400.0)


@tagged("post_install", "-at_install")
class TestNetPosition(DebtRecoveryCommon):
    """Open credits (credit notes, unapplied payments) are deducted from what is
    overdue in their currency: the customer form and the case show the same net
    figures as the reminders claim, and the credits apart."""

    def _assert_net(self, overdue, credit, due):
        case = self._case_of(self.customer)
        self.env.invalidate_all()
        for partner in (self.customer, self.customer_contact):
            self.assertAlmostEqual(partner.debt_amount_overdue, overdue)
            self.assertAlmostEqual(partner.debt_amount_credit, credit)
            self.assertAlmostEqual(partner.debt_amount_due, due)
        self.assertAlmostEqual(case.amount_overdue, overdue)
        self.assertAlmostEqual(case.amount_credit, credit)
        self.assertAlmostEqual(case.amount_due, due)
        return case

    def _breakdown(self, partner):
        """The rows of the panel's table from the overdue amount to the total due."""
        if not partner.debt_amount_breakdown:
            return []
        return [
            # (format_amount joins the minus sign with a zero-width no-break space)
            tuple(
                " ".join(cell.text_content().replace("\ufeff", "").split())
                for cell in tr.iterchildren("td")
            )
            for tr in html.fromstring(str(partner.debt_amount_breakdown)).iter("tr")
        ]

    def test_credit_note_cancels_the_overdue_invoice(self):
        invoice = self._invoice(self.customer, 500.0, days_late=20)
        self._credit_note(self.customer, 500.0)
        case = self._assert_net(overdue=0.0, credit=500.0, due=0.0)
        self.assertEqual(self.customer.debt_oldest_overdue_days, 0, "Nothing is owed late.")
        self.assertEqual(
            self.customer.debt_overdue_invoice_ids, invoice, "The invoice itself is still open."
        )
        self.assertIn("500.00", str(case.currency_summary))
        self.assertFalse(self.customer.debt_hold_reason)

    def test_partial_credit_shows_net(self):
        self._invoice(self.customer, 1000.0, days_late=20)
        self._invoice(self.customer, 400.0, days_late=-10)
        self._credit_note(self.customer, 300.0)
        case = self._assert_net(overdue=700.0, credit=300.0, due=1100.0)
        self.assertEqual(self.customer.debt_oldest_overdue_days, 20)
        # The panel says why the total due is not the overdue amount.
        self.assertEqual(
            self._breakdown(self.customer),
            [
                ("Overdue, before credits", "$ 1,000.00"),
                ("Open credits deducted", "$ -300.00"),
                ("Overdue", "$ 700.00"),
                ("Not yet due", "$ 400.00"),
                ("Total due", "$ 1,100.00"),
            ],
        )
        summary = str(case.currency_summary)
        for figure in ("1,100.00", "1,000.00", "300.00", "700.00"):
            self.assertIn(figure, summary)

    def test_unapplied_payment_counts_as_credit(self):
        self._invoice(self.customer, 800.0, days_late=15)
        self._unapplied_payment(self.customer, 200.0)
        self._assert_net(overdue=600.0, credit=200.0, due=600.0)
        self.assertAlmostEqual(self.customer.debt_exposure, 600.0)

    def test_credit_in_another_currency_is_not_deducted(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self._invoice(self.customer, 600.0, days_late=15)
        self._credit_note(self.customer, 400.0, currency=eur)  # 200 in company currency
        self._assert_net(overdue=600.0, credit=200.0, due=400.0)
        self.assertEqual(
            self._breakdown(self.customer),
            [
                ("Overdue", "$ 600.00"),
                ("Open credits not deducted from the overdue amount", "$ -200.00"),
                ("Total due", "$ 400.00"),
            ],
        )

    def test_policy_can_keep_credits_apart(self):
        self._invoice(self.customer, 1000.0, days_late=20)
        self._credit_note(self.customer, 300.0)
        policy = self.env["debt.recovery.policy"].create(
            {"name": "Gross", "company_id": self.company.id, "net_credits": False}
        )
        self.customer.debt_policy_id = policy
        self._assert_net(overdue=1000.0, credit=300.0, due=700.0)
        self.customer.debt_policy_id = False
        self._assert_net(overdue=700.0, credit=300.0, due=700.0)

    def test_reminder_claims_what_the_case_and_panel_show(self):
        self._invoice(self.customer, 1000.0, days_late=20)
        self._credit_note(self.customer, 300.0)
        self.env["debt.recovery.communication"]._run_escalation(self.company)
        comm = self.env["debt.recovery.communication"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(len(comm), 1)
        self.assertAlmostEqual(comm.amount_total, 700.0)
        self.assertAlmostEqual(comm.amount_credit, 300.0)
        self._assert_net(overdue=comm.amount_total, credit=comm.amount_credit, due=700.0)
