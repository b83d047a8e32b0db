"""Browser tours (board, customer form, approval queue, payment plan) in headless Chromium."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, common, new_test_user, tagged

# Odoo waits 10 s for Chromium's devtools port, then skips the tour. On a busy
# 2-core machine (PostgreSQL, the test server and Chromium together) a start
# has been seen to take longer: give it a minute rather than lose the test.
common.CHECK_BROWSER_ITERATIONS = 600


@tagged("post_install", "-at_install")
class TestRecoveryTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        company = cls.admin.company_id
        if not cls.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        ):
            cls.env["account.chart.template"].try_loading(
                "generic_coa", company=company, install_demo=False
            )

    def _overdue_customer(self, name, amount, days_late):
        partner = self.env["res.partner"].create({"name": name, "is_company": True})
        self._invoice(partner, amount, days_late)
        case = self.env["debt.recovery.case"].search([("partner_id", "=", partner.id)])
        self.assertEqual(len(case), 1)
        return partner, case

    def _invoice(self, partner, amount, days_late):
        today = fields.Date.context_today(self.admin)
        invoice = (
            self.env["account.move"]
            .with_user(self.admin)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": today - timedelta(days=days_late + 30),
                    "invoice_date_due": today - timedelta(days=days_late),
                    "invoice_payment_term_id": False,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Audit", "quantity": 1, "price_unit": amount, "tax_ids": []}
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    def test_board_drag_and_drop_changes_stage(self):
        _partner, case = self._overdue_customer("Tour Board Customer", 500.0, 20)
        # Two more in the same column, one with a credit note: the column
        # total is what the cards show (overdue less credits), not the total due.
        partner, _other = self._overdue_customer("Tour Board Second", 1250.5, 40)
        third, third_case = self._overdue_customer("Tour Board Third", 80.25, 5)
        self._invoice(third, 300.0, -10)  # not due yet: in the total due, not overdue
        self.assertEqual(
            (third_case.amount_due, third_case.amount_overdue_company), (380.25, 80.25)
        )
        refund = (
            self.env["account.move"]
            .with_user(self.admin)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": partner.id,
                    "invoice_date": fields.Date.context_today(self.admin),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Refund", "quantity": 1, "price_unit": 200.0, "tax_ids": []}
                        )
                    ],
                }
            )
        )
        refund.action_post()
        self.assertEqual(_other.amount_overdue_company, 1050.5)
        self.start_tour(
            "/odoo/action-debt_recovery.debt_recovery_case_action",
            "debt_recovery_board_tour",
            login="admin",
        )
        case.invalidate_recordset()
        self.assertEqual(case.stage_id, self.env.ref("debt_recovery.stage_formal_notice"))
        tracking = case.sudo().message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "stage_id"
            and t.new_value_integer == self.env.ref("debt_recovery.stage_formal_notice").id
        )
        self.assertEqual(len(tracking), 1)
        self.assertEqual(tracking.old_value_char, "New")
        self.assertEqual(tracking.mail_message_id.author_id, self.admin.partner_id)

    def test_customer_form_recovery_panel(self):
        partner, case = self._overdue_customer("Tour Form Customer", 1234.0, 15)
        self.start_tour(
            f"/odoo/action-account.res_partner_action_customer/{partner.id}",
            "debt_recovery_partner_tour",
            login="admin",
        )
        self.assertTrue(
            any(
                "Will pay by transfer on Monday" in body and "Reached" in body
                for body in case.message_ids.mapped("body")
            )
        )

    def test_collector_approves_from_the_queue(self):
        partner, case = self._overdue_customer("Tour Approval Customer", 900.0, 80)
        collector = new_test_user(
            self.env,
            login="tour_collector",
            password="tour_collector",
            groups="base.group_user,debt_recovery.group_debt_recovery_user",
            company_id=self.admin.company_id.id,
        )
        # The hand-off (75 days) is the level that waits for approval; paced,
        # a first contact is the first reminder: straight to the level of the age.
        company = self.admin.company_id
        policy = self.env["debt.recovery.policy"]._get_company_defaults(company)[company]
        policy.escalation_mode = "age"
        Communication = self.env["debt.recovery.communication"]
        Communication._run_escalation(company, partners=partner)
        comm = Communication.search([("partner_id", "=", partner.id)])
        self.assertEqual(comm.state, "to_approve")
        self.start_tour(
            "/odoo/action-debt_recovery.debt_recovery_communication_action_to_approve",
            "debt_recovery_approval_tour",
            login="tour_collector",
        )
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.approved_by_id, collector)
        self.assertTrue(case.activity_ids, "The hand-off leaves a call to make.")

    def test_print_letters_from_the_list_and_the_form(self):
        partner, _case = self._overdue_customer("Tour Print Customer", 640.0, 12)
        company = self.admin.company_id
        Communication = self.env["debt.recovery.communication"]
        # No email address: the friendly reminder goes as a letter, to print.
        Communication._run_escalation(company, partners=partner)
        letter = Communication.search([("partner_id", "=", partner.id)])
        self.assertEqual(letter.status, "to_print")
        self.start_tour(
            "/odoo/action-debt_recovery.debt_recovery_communication_action",
            "debt_recovery_print_tour",
            login="admin",
        )
        self.assertEqual((letter.status, letter.letter_state), ("printed", "printed"))
        printed = self.env["ir.attachment"].search(
            [("name", "like", "Recovery letters"), ("create_uid", "=", self.admin.id)]
        )
        self.assertEqual(len(printed), 2, "Printed, then reprinted.")

    def test_payment_plan_from_customer_form(self):
        partner, case = self._overdue_customer("Tour Plan Customer", 1000.0, 25)
        self.start_tour(
            f"/odoo/action-account.res_partner_action_customer/{partner.id}",
            "debt_recovery_plan_tour",
            login="admin",
        )
        plan = self.env["debt.recovery.plan"].search([("partner_id", "=", partner.id)])
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.instalment_ids.mapped("amount"), [333.33, 333.33, 333.34])
        self.assertEqual(case.stage_id, self.env.ref("debt_recovery.stage_payment_plan"))

    def test_hand_a_case_to_an_agency_from_the_board(self):
        _partner, case = self._overdue_customer("Tour Agency Customer", 720.0, 50)
        # Past the final demand: the case form offers the hand-off (before, the
        # Action menu of the form and of the board's list does).
        case.stage_id = self.env.ref("debt_recovery.stage_demand_letter")
        agency_partner = self.env["res.partner"].create(
            {"name": "Tour Collect SA", "is_company": True}
        )
        self.env["debt.recovery.agency"].create(
            {
                "partner_id": agency_partner.id,
                "company_id": self.admin.company_id.id,
                "commission_percent": 12.0,
                "announce_letter": False,
            }
        )
        self.start_tour(
            "/odoo/action-debt_recovery.debt_recovery_case_action",
            "debt_recovery_agency_tour",
            login="admin",
        )
        case.invalidate_recordset()
        self.assertEqual(case.stage_id, self.env.ref("debt_recovery.stage_agency"))
        handoff = case.agency_handoff_ids
        self.assertEqual((handoff.state, handoff.amount_handed), ("active", 720.0))
        self.assertEqual(handoff.agency_id.partner_id, agency_partner)
        self.assertTrue(handoff.move_line_ids.debt_agency_handoff_id)

    def test_aged_receivable_drill_down_and_export(self):
        partner, _case = self._overdue_customer("Tour Aged Customer", 480.0, 40)
        self.start_tour(
            "/odoo/action-debt_recovery.debt_recovery_aged_receivable_action",
            "debt_recovery_aged_receivable_tour",
            login="admin",
        )
        report = self.env["debt.recovery.aged.receivable"].search(
            [("create_uid", "=", self.admin.id)], order="id desc", limit=1
        )
        item = report.item_ids.filtered(lambda item: item.partner_id == partner)
        self.assertEqual((item.bucket, item.amount), ("b2", 480.0))
        exported = self.env["ir.attachment"].search(
            [("res_model", "=", report._name), ("res_id", "=", report.id)]
        )
        self.assertTrue(exported.name.endswith(".xlsx"))
