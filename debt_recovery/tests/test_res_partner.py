from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestResPartner(DebtRecoveryCommon):
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
