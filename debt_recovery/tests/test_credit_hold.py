from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestCreditHold(DebtRecoveryCommon):
    def _hold(self, action, reason="Agreed with the CFO", user=None):
        wizard = self.env["debt.recovery.hold"].with_user(user or self.user_manager)
        wizard.create(
            {"partner_id": self.customer.id, "action": action, "reason": reason}
        ).action_apply()

    def test_exposure(self):
        self._set_credit_limit(self.customer, 1000.0)
        self._invoice(self.customer, 500.0, days_late=-10)
        self._invoice(self.customer_contact, 200.0, days_late=-20, post=False)
        self.assertEqual(self.customer.debt_exposure, 700.0)
        self.assertEqual(self.customer.debt_credit_available, 300.0)
        self.assertAlmostEqual(self.customer.debt_credit_usage, 70.0)
        self.assertFalse(self.customer.debt_hold_reason)

    def test_hold_over_the_limit(self):
        self.company.debt_hold_on_limit = True
        self._set_credit_limit(self.customer, 1000.0)
        self._invoice(self.customer, 900.0, days_late=-10)
        draft = self._invoice(self.customer, 200.0, days_late=-20, post=False)
        self.assertIn("over the credit limit", self.customer.debt_hold_reason)
        with self.assertRaises(UserError) as error:
            draft.action_post()
        self.assertIn("credit hold", str(error.exception))
        self.assertIn("1,100.00", str(error.exception))
        self.assertEqual(draft.state, "draft", "Nothing was posted.")
        # Credit notes and payments still go through.
        self._pay(self.customer.invoice_ids.filtered(lambda m: m.state == "posted"), amount=300.0)
        draft.action_post()
        self.assertEqual(draft.state, "posted", "The hold lifted when the customer paid.")

    def test_hold_on_days_overdue_lifts_on_payment(self):
        self.company.debt_hold_overdue_days = 30
        late = self._invoice(self.customer, 100.0, days_late=40)
        draft = self._invoice(self.customer, 50.0, days_late=-20, post=False)
        with self.assertRaises(UserError):
            draft.action_post()
        self._pay(late)
        self.assertFalse(self.customer.debt_hold_reason)
        draft.action_post()
        self.assertEqual(draft.state, "posted")

    def test_open_credits_count_in_exposure_and_lift_the_overdue_hold(self):
        self._invoice(self.customer, 1200.0, days_late=40)
        self.company.debt_hold_on_limit = True
        self.company.debt_hold_overdue_days = 30
        self._set_credit_limit(self.customer, 1000.0)
        draft = self._invoice(self.customer, 100.0, days_late=-20, post=False)
        self.assertIn("over the credit limit", self.customer.debt_hold_reason)
        self.assertIn("40 days overdue", self.customer.debt_hold_reason)
        # An unapplied payment and a credit note: the customer owes nothing late.
        self._unapplied_payment(self.customer, 700.0)
        self._credit_note(self.customer, 500.0)
        self.customer.invalidate_recordset()
        self.assertAlmostEqual(self.customer.debt_exposure, 100.0, msg="1,200 - 1,200 + 100")
        self.assertAlmostEqual(self.customer.debt_amount_overdue, 0.0)
        self.assertFalse(self.customer.debt_hold_reason)
        draft.action_post()
        self.assertEqual(draft.state, "posted")

    def test_hold_on_recovery_stage(self):
        self.company.debt_hold_stage_id = self.stage_formal_notice
        self._invoice(self.customer, 100.0, days_late=5)
        draft = self._invoice(self.customer, 50.0, days_late=-20, post=False)
        draft.action_post()
        # Moved by hand past the hold stage (Legal Action now needs its record).
        self._case_of(self.customer).stage_id = self.env.ref("debt_recovery.stage_demand_letter")
        other = self._invoice(self.customer, 60.0, days_late=-20, post=False)
        with self.assertRaises(UserError) as error:
            other.action_post()
        self.assertIn("Final Demand", str(error.exception))

    def test_manual_hold_override_and_release(self):
        draft = self._invoice(self.customer, 50.0, days_late=-20, post=False)
        with self.assertRaises(UserError):
            self._hold("hold", reason="  ")
        self._hold("hold", reason="Cheque bounced", user=self.user_collector)
        self.assertTrue(self.customer.debt_manual_hold)
        with self.assertRaises(UserError):
            draft.action_post()
        with self.assertRaises(UserError):
            self._hold("override", user=self.user_collector)
        self._hold("override", reason="Urgent order, paid upfront")
        draft.action_post()
        self.assertEqual(draft.state, "posted")
        self.assertFalse(self.customer.debt_hold_override, "A one-off override is used up.")
        again = self._invoice(self.customer, 20.0, days_late=-20, post=False)
        with self.assertRaises(UserError):
            again.action_post()
        with self.assertRaises(UserError), self.cr.savepoint():
            self._hold("release", reason="Cheque cleared", user=self.user_collector)
        self.assertTrue(self.customer.debt_manual_hold, "Only a manager releases a hold.")
        self._hold("release", reason="Cheque cleared")
        again.action_post()
        bodies = " ".join(self.customer.message_ids.mapped("body"))
        for text in (
            "Cheque bounced",
            "Urgent order, paid upfront",
            "override used",
            "Cheque cleared",
        ):
            self.assertIn(text, bodies)
        authors = {
            message.author_id
            for message in self.customer.message_ids
            if "Cheque" in (message.body or "")
        }
        self.assertEqual(
            authors, {self.user_collector.partner_id, self.user_manager.partner_id}, "Who did it."
        )

    def test_no_context_key_lifts_a_hold(self):
        """The hold is lifted by its actions only: the key the module once
        used for its own fee invoices, sent by a caller, changes nothing."""
        self._hold("hold", reason="Cheque bounced")
        draft = self._invoice(self.customer, 50.0, days_late=-20, post=False)
        with self.assertRaises(UserError):
            draft.with_user(self.user_invoicing).with_context(
                debt_recovery_skip_hold=True
            ).action_post()
        self.assertEqual(draft.state, "draft")

    def test_override_log_names_the_manager_and_the_invoice(self):
        self._hold("hold", reason="Cheque bounced")
        self._hold("override", reason="Urgent order, paid upfront")
        self.assertEqual(self.customer.debt_hold_override_user_id, self.user_manager)
        draft = self._invoice(self.customer, 75.0, days_late=-20, post=False)
        draft.with_user(self.user_invoicing).action_post()
        self.assertEqual(draft.state, "posted")
        self.assertFalse(self.customer.debt_hold_override)
        self.assertFalse(self.customer.debt_hold_override_user_id)
        log = self.customer.message_ids.filtered(lambda m: "override used" in (m.body or ""))
        self.assertEqual(len(log), 1)
        self.assertIn(draft.name, log.body)
        self.assertIn("Mona Manager", log.body, "The manager who granted it.")
        self.assertIn("Ivy Invoicing", log.body, "Who posted the invoice.")
        self.assertIn("held by hand", log.body)
        self.assertEqual(log.author_id, self.user_invoicing.partner_id)

    def test_draft_label_of_an_invoice_without_number(self):
        draft = self._invoice(self.customer, 75.0, days_late=-20, post=False)
        label = self.env["res.partner"]._debt_document_label(draft)
        if not draft.name or draft.name == "/":
            self.assertIn("draft invoice of", label)
            self.assertIn("75.00", label)
        else:
            self.assertEqual(label, draft.name)

    def test_credit_limit_changes_through_its_action(self):
        action = self.customer.with_user(self.user_manager).action_debt_change_credit_limit()
        wizard = (
            self.env["debt.recovery.hold"]
            .with_user(self.user_manager)
            .with_context(**action["context"])
            .create({"reason": "Annual review"})
        )
        self.assertEqual(wizard.action, "limit")
        self.assertEqual(wizard.current_credit_limit, 0.0)
        wizard.new_credit_limit = 2500.0
        wizard.action_apply()
        self.assertEqual(self.customer.credit_limit, 2500.0)
        self.assertEqual(self.customer_contact.credit_limit, 2500.0, "Copied to the contacts.")
        log = self.customer.message_ids[0]
        self.assertIn("Annual review", log.body)
        self.assertIn("2,500.00", log.body)
        self.assertEqual(log.author_id, self.user_manager.partner_id)
        for bad in (-1.0, float("nan"), float("inf")):
            with self.assertRaises(UserError), self.cr.savepoint():
                self.env["debt.recovery.hold"].with_user(self.user_manager).create(
                    {
                        "partner_id": self.customer.id,
                        "action": "limit",
                        "new_credit_limit": bad,
                        "reason": "Typo",
                    }
                ).action_apply()
        with self.assertRaises(UserError), self.cr.savepoint():
            self.env["debt.recovery.hold"].with_user(self.user_manager).create(
                {"partner_id": self.customer.id, "action": "limit", "reason": " "}
            ).action_apply()
        with self.assertRaises(UserError), self.cr.savepoint():
            self.customer.with_user(self.user_collector).action_debt_change_credit_limit()
        self.assertEqual(self.customer.credit_limit, 2500.0)

    def test_contacts_and_copies_keep_working(self):
        """Odoo copies the company's credit limit to its contacts, and the
        fields are not copied with a customer: neither is refused."""
        self._set_credit_limit(self.customer, 800.0)
        self._hold("hold", reason="Cheque bounced")
        user = self.user_billing_contacts
        contact = (
            self.env["res.partner"]
            .with_user(user)
            .create({"name": "Paul Payables", "parent_id": self.customer.id})
        )
        self.assertEqual(contact.sudo().credit_limit, 800.0)
        other = self.env["res.partner"].create({"name": "Other Ltd", "is_company": True})
        contact.with_user(user).parent_id = other
        contact.with_user(user).parent_id = self.customer
        self.assertEqual(contact.sudo().credit_limit, 800.0)
        copy = self.customer.with_user(user).copy()
        self.assertFalse(copy.sudo().debt_manual_hold)
        self.assertEqual(copy.sudo().credit_limit, 0.0)
        # A write of the value already on record changes nothing (a merge does that).
        self.customer.with_user(user).write({"credit_limit": 800.0, "debt_manual_hold": True})

    def test_bad_settings_are_refused(self):
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.customer.sudo().credit_limit = -1.0
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.company.debt_hold_overdue_days = -5

    def test_exposure_queries_do_not_grow(self):
        # sudo: data set up as an import would (a direct write is refused).
        partners = (
            self.env["res.partner"]
            .sudo()
            .create(
                [
                    {"name": f"Exposure {i}", "is_company": True, "credit_limit": 100.0}
                    for i in range(30)
                ]
            )
        )
        for partner in partners:
            self._invoice(partner, 10.0, days_late=3)

        def count(records):
            self.env.invalidate_all()
            records = records.browse(records.ids)
            before = self.env.cr.sql_log_count
            records.mapped("debt_hold_reason")
            records.mapped("debt_exposure")
            return self.env.cr.sql_log_count - before

        count(partners[20:])
        self.assertEqual(count(partners[:5]), count(partners))
