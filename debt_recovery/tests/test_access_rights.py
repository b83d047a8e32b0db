from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestAccessRights(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._invoice(cls.customer, 500.0, days_late=15)
        cls.case = cls.env["debt.recovery.case"].search([("partner_id", "=", cls.customer.id)])

    def test_invoicing_user_reads_but_does_not_work_cases(self):
        case = self.case.with_user(self.user_invoicing)
        self.assertEqual(case.stage_id.name, self.stage_current.name)
        self.assertEqual(case.amount_overdue, 500.0)
        self.assertEqual(
            self.customer.with_user(self.user_invoicing).debt_stage_id, self.stage_current
        )
        with self.assertRaises(AccessError):
            case.write({"stage_id": self.stage_reminder.id})
        with self.assertRaises(AccessError):
            self.env["debt.recovery.case"].with_user(self.user_invoicing).create(
                {"partner_id": self.partner_a.id}
            )
        with self.assertRaises(AccessError):
            self.Stage.with_user(self.user_invoicing).create({"name": "X", "kind": "legal"})
        with self.assertRaises(AccessError):
            self.env["debt.recovery.stage.change"].with_user(self.user_invoicing).create(
                {"case_ids": case.ids, "stage_id": self.stage_reminder.id, "reason": "x"}
            )

    def test_invoicing_user_payment_closes_case(self):
        invoice = self.case.overdue_invoice_ids
        self.env["account.payment.register"].with_user(self.user_invoicing).with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertTrue(self.case.is_closed)

    def test_collector_works_cases_not_configuration(self):
        case = self.case.with_user(self.user_collector)
        case.write({"user_id": self.user_collector.id, "stage_id": self.stage_reminder.id})
        self.assertEqual(case.stage_id, self.stage_reminder)
        new_case = self.Case.with_user(self.user_collector).create(
            {"partner_id": self.partner_a.id}
        )
        self.assertEqual(new_case.company_id, self.company)
        with self.assertRaises(AccessError):
            new_case.unlink()
        with self.assertRaises(AccessError):
            self.Stage.with_user(self.user_collector).create({"name": "X", "kind": "legal"})
        with self.assertRaises(AccessError):
            self.stage_reminder.with_user(self.user_collector).write({"name": "Renamed"})

    def test_manager_configures_and_deletes(self):
        stage = self.Stage.with_user(self.user_manager).create({"name": "Bailiff", "kind": "legal"})
        stage.write({"fold": True})
        case = self.Case.with_user(self.user_manager).create({"partner_id": self.partner_a.id})
        case.unlink()
        self.assertFalse(case.exists())
        stage.unlink()

    def test_accounting_groups_imply_recovery_groups(self):
        accountant = self.env.ref("account.group_account_user")
        admin = self.env.ref("account.group_account_manager")
        self.assertIn(
            self.env.ref("debt_recovery.group_debt_recovery_user"), accountant.trans_implied_ids
        )
        self.assertIn(
            self.env.ref("debt_recovery.group_debt_recovery_manager"), admin.trans_implied_ids
        )
        self.assertNotIn(
            self.env.ref("debt_recovery.group_debt_recovery_user"),
            self.env.ref("account.group_account_invoice").trans_implied_ids,
        )

    def test_cases_of_other_companies_are_invisible(self):
        company_2 = self.setup_other_company()["company"]
        self._invoice(self.customer, 300.0, days_late=9, company=company_2)
        case_2 = self.Case.search(
            [("partner_id", "=", self.customer.id), ("company_id", "=", company_2.id)]
        )
        self.assertTrue(case_2)
        Case = self.Case.with_user(self.user_collector)
        self.assertEqual(Case.search([("partner_id", "=", self.customer.id)]), self.case)
        with self.assertRaises(AccessError):
            case_2.with_user(self.user_collector).read(["amount_due"])
        with self.assertRaises(AccessError):
            case_2.with_user(self.user_manager).write({"user_id": self.user_manager.id})
