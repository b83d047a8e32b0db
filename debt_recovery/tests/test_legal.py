import base64
from contextlib import contextmanager
from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from ..models.debt_recovery_workflow_mixin import workflow_step
from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestLegalAction(DebtRecoveryCommon):
    """Legal action: it holds the escalation of its items, shows the case in
    the Legal stage, logs its steps, restarts the limitation period on a
    claim filed where the law says so, and charges its recoverable costs
    once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref("base.fr")
        cls.customer.email = "ap@late-payer.example.com"
        cls.LegalAction = cls.env["debt.recovery.legal.action"]
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.stage_legal = cls.env.ref("debt_recovery.stage_legal")
        cls.lawyer = cls.env["res.partner"].create({"name": "Maître Avocat", "is_company": True})

    @contextmanager
    def _refused(self, exception, text):
        """Refused with ``text`` in the message, and rolled back (the
        savepoint of assertRaises): what the caller would see."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertIn(text, str(caught.exception))

    def _item(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _open(self, case, user=None, **vals):
        return (
            self.LegalAction.with_user(user or self.user_manager)
            .with_context(default_case_id=case.id)
            .create({"lawyer_id": self.lawyer.id, "court": "Tribunal de commerce de Lyon", **vals})
        )

    def _bill(self, amount, vendor=None):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": (vendor or self.lawyer).id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Fees", "quantity": 1, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        bill.action_post()
        return bill

    def _customer_comms(self):
        return self.Communication.search([("partner_id", "=", self.customer.id)])

    def test_legal_action_holds_the_escalation_until_closed(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        self.assertEqual(case.stage_kind, "current")
        action = self._open(case, reference="RG 26/01234")
        item = self._item(invoice)
        # Every overdue item of the case, its claim from the items.
        self.assertEqual(action.move_line_ids, item)
        self.assertEqual(action.amount_principal, 1000.0)
        self.assertEqual(action.amount_interest, item.debt_interest_accrued)
        self.assertEqual(action.amount_costs, item.debt_compensation_due)
        self.assertGreater(action.amount_interest, 0.0)
        self.assertEqual(action.amount_costs, 40.0, "French fixed compensation of 40 EUR.")
        self.assertEqual(item.debt_legal_action_id, action)
        self.assertEqual(case.stage_id, self.stage_legal)
        self.assertEqual(case.stage_before_pause_id, self.stage_current)
        self.assertIn("Legal action opened by Mona Manager", case.message_ids[0].body)
        self.assertEqual(item.debt_exclusion_reason, f"Under legal action {action.display_name}")
        # No reminder leaves while the lawyer acts.
        self.Communication._run_escalation(self.company, send=False)
        self.assertFalse(self._customer_comms())
        # Each step is in the case's chatter.
        action.with_user(self.user_manager).write(
            {
                "step_ids": [
                    Command.create(
                        {
                            "kind": "letter_before_action",
                            "date": self.today,
                            "note": "Sent by the lawyer, recorded delivery",
                        }
                    ),
                    Command.create({"kind": "claim_filed", "date": self.today}),
                ]
            }
        )
        bodies = case.message_ids.mapped("body")
        self.assertTrue(
            any("Letter Before Action" in body and "recorded delivery" in body for body in bodies)
        )
        self.assertTrue(any("Claim Filed" in body for body in bodies))
        # Closed with its outcome: released, the escalation resumes.
        with self.assertRaises(UserError):
            action.with_user(self.user_manager).action_close()
        self.env["debt.recovery.legal.close"].with_user(self.user_manager).create(
            {"legal_action_id": action.id, "outcome": "judgment_unpaid"}
        ).action_close()
        self.assertEqual(action.state, "closed")
        self.assertEqual(action.outcome, "judgment_unpaid")
        self.assertEqual(action.date_closed, self.today)
        self.assertEqual(action.step_ids[-1].kind, "closed")
        self.assertFalse(item.debt_legal_action_id)
        self.assertEqual(case.stage_id, self.stage_current)
        self.Communication._run_escalation(self.company, send=False)
        self.assertTrue(self._customer_comms(), "Reminders resume once the action is closed.")
        # A closed action is on record: no more steps, no second closing.
        with self.assertRaises(UserError):
            action.with_user(self.user_manager).write(
                {"step_ids": [Command.create({"kind": "hearing", "date": self.today})]}
            )
        with self.assertRaises(UserError):
            action.with_user(self.user_manager).action_close("paid")

    def test_opened_from_the_case_form(self):
        """The case's Legal Action button opens the form with the case's
        overdue items and the claim filled in; the time-bar confirmation
        shows only for items past their date."""
        invoice = self._invoice(self.customer, 650.0, days_late=40)
        self._invoice(self.customer, 200.0, days_late=-5)  # not due yet
        case = self._case_of(self.customer)
        action = case.with_user(self.user_manager).action_open_legal_action()
        form = Form(
            self.env[action["res_model"]]
            .with_user(self.user_manager)
            .with_context(**action["context"])
        )
        self.assertEqual(form.case_id, case)
        self.assertEqual(form.partner_id, self.customer)
        self.assertEqual(list(form.move_line_ids.ids), self._item(invoice).ids)
        self.assertEqual(form.amount_principal, 650.0)
        self.assertFalse(form.has_time_barred)
        form.reference = "RG 26/04321"
        form.amount_costs = 80.0
        legal = form.save()
        self.assertEqual(legal.amount_claim, 650.0 + legal.amount_interest + 80.0)
        self.assertEqual(legal.name, f"{case.name} - RG 26/04321")
        self.assertEqual(case.stage_id, self.stage_legal)

    def test_a_queued_reminder_is_not_sent_under_legal_action(self):
        self._invoice(self.customer, 500.0, days_late=40)
        case = self._case_of(self.customer)
        self.Communication._run_escalation(self.company, send=False)
        comm = self._customer_comms()
        self.assertEqual(len(comm), 1)
        self._open(case)
        comm._send()
        self.assertEqual(comm.state, "cancelled")

    def test_a_disputed_case_taken_to_court_shows_legal_action(self):
        invoice = self._invoice(self.customer, 900.0, days_late=40)
        case = self._case_of(self.customer)
        dispute = self.env["debt.recovery.dispute"].create(
            {
                "move_id": invoice.id,
                "reason_id": self.env.ref("debt_recovery.dispute_reason_quality").id,
            }
        )
        self.assertEqual(case.stage_kind, "disputed")
        action = self._open(case)
        self.assertEqual(case.stage_id, self.stage_legal)
        self.assertEqual(case.stage_before_pause_id, self.stage_current)
        # Closed while the dispute goes on: the case is Disputed again.
        action.with_user(self.user_manager).action_close("withdrawn")
        self.assertEqual(case.stage_kind, "disputed")
        dispute.action_reject()
        self.assertEqual(case.stage_id, self.stage_current)

    def test_paid_then_closed_ends_recovered(self):
        invoice = self._invoice(self.customer, 800.0, days_late=40)
        case = self._case_of(self.customer)
        action = self._open(case)
        self._pay(invoice)
        action.with_user(self.user_manager).action_close("paid")
        self.assertTrue(case.is_closed)
        self.assertEqual(case.stage_id, self.stage_closed)

    @freeze_time("2026-05-15")
    def test_claim_filed_restarts_the_limitation_in_france(self):
        today = date(2026, 5, 15)
        due = date(2021, 6, 1)
        invoice = self._invoice(self.customer, 700.0, days_late=(self.today - due).days)
        item = self._item(invoice)
        self.assertEqual(item.date_maturity, due)
        # Code de commerce L110-4: 5 years from the due date.
        self.assertEqual(item.debt_limitation_date, date(2026, 6, 1))
        case = self._case_of(self.customer)
        with workflow_step():  # opened a fortnight ago
            action = self._open(case, date=date(2026, 5, 1))
        self.assertFalse(action.has_time_barred)
        action.with_user(self.user_manager).write(
            {"step_ids": [Command.create({"kind": "hearing", "date": date(2026, 5, 5)})]}
        )
        item.invalidate_recordset(["debt_limitation_date"])
        self.assertEqual(item.debt_limitation_date, date(2026, 6, 1), "A hearing restarts nothing.")
        # Code civil 2241: the claim in court interrupts it; 2231: 5 years again.
        action.with_user(self.user_manager).write(
            {"step_ids": [Command.create({"kind": "claim_filed", "date": date(2026, 5, 10)})]}
        )
        item.invalidate_recordset(["debt_limitation_date", "debt_time_barred"])
        self.assertEqual(item.debt_limitation_date, date(2031, 5, 10))
        with freeze_time(today + timedelta(days=60)):
            item.invalidate_recordset(["debt_limitation_date", "debt_time_barred"])
            self.assertFalse(item.debt_time_barred, "Still claimable after the first date.")
        # Germany: the claim suspends (BGB § 204) and does not restart it.
        self.company.country_id = self.env.ref("base.de")
        item.invalidate_recordset(["debt_limitation_date"])
        self.assertEqual(item.debt_limitation_date, date(2024, 12, 31))

    def test_time_barred_item_needs_a_managers_confirmation(self):
        invoice = self._invoice(self.customer, 600.0, days_late=2000)
        item = self._item(invoice)
        self.assertTrue(item.debt_time_barred)
        case = self._case_of(self.customer)
        stage = case.stage_id
        messages = len(case.message_ids)
        with self._refused(UserError, "past its limitation date"):
            self._open(case, move_line_ids=[Command.set(item.ids)])
        self.assertFalse(self.LegalAction.search([("case_id", "=", case.id)]))
        self.assertFalse(item.debt_legal_action_id)
        self.assertEqual(case.stage_id, stage)
        self.assertEqual(len(case.message_ids), messages)
        action = self._open(case, move_line_ids=[Command.set(item.ids)], time_barred_confirmed=True)
        self.assertTrue(action.has_time_barred)
        self.assertEqual(action.time_barred_confirmed_by_id, self.user_manager)
        self.assertIn("on the confirmation of Mona Manager", case.message_ids[0].body)

    def test_recoverable_costs_charged_once(self):
        self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        action = self._open(case)
        court, lawyer = self._bill(120.0), self._bill(900.0)
        action.with_user(self.user_manager).write(
            {
                "cost_ids": [
                    Command.create({"move_id": court.id, "kind": "court_fee", "recoverable": True}),
                    Command.create(
                        {"move_id": lawyer.id, "kind": "lawyer_fee", "recoverable": False}
                    ),
                ]
            }
        )
        self.assertEqual(action.amount_costs_incurred, 1020.0)
        self.assertEqual(action.amount_costs_recoverable, 120.0)
        # The same bill twice is refused.
        with self._refused(ValidationError, "recorded once"):
            action.with_user(self.user_manager).write(
                {"cost_ids": [Command.create({"move_id": court.id})]}
            )
        # A customer invoice is no legal cost.
        with self.assertRaises(ValidationError):
            action.with_user(self.user_manager).write(
                {"cost_ids": [Command.create({"move_id": case.overdue_invoice_ids[:1].id})]}
            )
        # A locked period: refused, nothing invoiced, the costs still to charge.
        self.company.fiscalyear_lock_date = self.today
        with self._refused(UserError, "locked"):
            action.with_user(self.user_manager).action_charge_costs()
        self.assertFalse(case.charge_ids)
        self.assertFalse(action.cost_ids.charge_line_ids)
        self.company.fiscalyear_lock_date = False
        result = action.with_user(self.user_manager).action_charge_costs()
        charge = case.charge_ids
        self.assertEqual(len(charge), 1)
        legal_lines = charge.line_ids.filtered(lambda line: line.kind == "legal_cost")
        self.assertEqual(legal_lines.legal_cost_id.move_id, court)
        self.assertEqual(legal_lines.amount, 120.0)
        self.assertEqual(result["res_id"], charge.move_id.id)
        invoice_line = charge.move_id.invoice_line_ids.filtered(
            lambda line: "Legal costs" in line.name
        )
        self.assertEqual(invoice_line.price_subtotal, 120.0)
        self.assertEqual(invoice_line.account_id, self.company._debt_charge_accounts()[1]["fee"])
        self.assertTrue(action.cost_ids.filtered("recoverable").charged)
        # Never twice.
        with self._refused(UserError, "No recoverable legal cost"):
            action.with_user(self.user_manager).action_charge_costs()
        accrued = self.env["debt.recovery.charge"]._debt_accrued_lines(case, self.today)
        self.assertFalse(
            [vals for lines in accrued.values() for vals in lines if vals["kind"] == "legal_cost"]
        )
        # A charged cost stays as it was.
        with self.assertRaises(UserError):
            action.cost_ids.filtered("recoverable").with_user(self.user_manager).recoverable = False

    def test_claim_in_the_currency_of_its_items(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])  # 2 EUR a USD
        in_eur = self._invoice(self.customer, 1000.0, days_late=40, currency=eur)
        in_usd = self._invoice(self.customer, 300.0, days_late=40)
        case = self._case_of(self.customer)
        # One currency a claim.
        with self._refused(ValidationError, "one currency"):
            self._open(case)
        action = self._open(case, move_line_ids=[Command.set(self._item(in_eur).ids)])
        self.assertEqual(action.currency_id, eur)
        self.assertEqual(action.amount_principal, 1000.0, "In euros, as the invoice.")
        self.assertEqual(case.stage_id, self.stage_current, "The dollar invoice is not held.")
        # A court fee billed in dollars counts in euros in the claim.
        action.with_user(self.user_manager).write(
            {"cost_ids": [Command.create({"move_id": self._bill(60.0).id})]}
        )
        self.assertEqual(action.amount_costs_recoverable, 120.0)
        self.assertEqual(action.amount_costs, 120.0 + self._item(in_eur).debt_compensation_due)
        self.assertEqual(self._open(case).move_line_ids, self._item(in_usd))
        self.assertEqual(case.stage_id, self.stage_legal, "Now all its overdue debt is held.")

    def test_only_a_manager_takes_legal_action(self):
        self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        with self.assertRaises(AccessError):
            self._open(case, user=self.user_collector)
        with self.assertRaises(AccessError):
            case.with_user(self.user_collector).action_open_legal_action()
        self.assertEqual(case.stage_id, self.stage_current)
        action = self._open(case)
        # A collector sees it, and no more.
        as_collector = action.with_user(self.user_collector)
        self.assertEqual(as_collector.amount_principal, 1000.0)
        self.assertEqual(case.with_user(self.user_collector).legal_action_count, 1)
        with self.assertRaises(AccessError):
            as_collector.write(
                {"step_ids": [Command.create({"kind": "hearing", "date": self.today})]}
            )
        with self.assertRaises(AccessError):
            as_collector.action_close("withdrawn")
        self.assertEqual(action.state, "open")
        # A manager of another company sees nothing of it.
        other = self.setup_other_company()["company"]
        outsider = self._other_company_manager(other)
        with self.assertRaises(AccessError):
            action.with_user(outsider).read(["amount_claim"])
        # The workflow fields move through the actions only.
        with self.assertRaises(UserError):
            action.with_user(self.user_manager).write({"state": "closed"})

    def test_items_case_and_date_fixed_once_opened(self):
        claimed = self._invoice(self.customer, 1000.0, days_late=40)
        left_out = self._invoice(self.customer, 300.0, days_late=40)
        case = self._case_of(self.customer)
        action = self._open(case, move_line_ids=[Command.set(self._item(claimed).ids)])
        other = self.env["res.partner"].create({"name": "Other Payer", "is_company": True})
        self._invoice(other, 200.0, days_late=40)
        other_case = self._case_of(other)
        as_manager = action.with_user(self.user_manager)
        for vals in (
            {"move_line_ids": [Command.link(self._item(left_out).id)]},
            {"move_line_ids": [Command.set(self._item(left_out).ids)]},
            {"move_line_ids": [Command.clear()]},
            {"case_id": other_case.id},
        ):
            with self._refused(UserError, "fixed when it opens"):
                as_manager.write(vals)
        # Nor back-dated (the days paused count from it), now or when opened.
        with self._refused(UserError, "Opened On"):
            as_manager.write({"date": self.today - timedelta(days=200)})
        with self._refused(UserError, "Opened On"):
            self._open(
                case,
                move_line_ids=[Command.set(self._item(left_out).ids)],
                date=self.today - timedelta(days=200),
            )
        self.assertFalse(self._item(left_out).debt_legal_action_id)
        # Nothing changed: the same items held, the same claim, the same day.
        self.assertEqual(action.move_line_ids, self._item(claimed))
        self.assertEqual(action.case_id, case)
        self.assertEqual(action.date, self.today)
        self.assertEqual(action.amount_principal, 1000.0)
        self.assertEqual(self._item(claimed).debt_legal_action_id, action)
        self.assertFalse(self._item(left_out).debt_legal_action_id)
        # Its other details stay editable.
        as_manager.write({"reference": "RG 26/04321"})
        self.assertEqual(action.reference, "RG 26/04321")

    def test_steps_on_record_once_recorded(self):
        self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        with workflow_step():  # opened ten days ago
            action = self._open(case, date=self.today - timedelta(days=10))
        as_manager = action.with_user(self.user_manager)
        # Dated between the day the action opened and today only.
        with self._refused(ValidationError, "before it opened"):
            as_manager.write(
                {
                    "step_ids": [
                        Command.create({"kind": "claim_filed", "date": self.today - timedelta(11)})
                    ]
                }
            )
        with self._refused(ValidationError, "in the future"):
            as_manager.write(
                {
                    "step_ids": [
                        Command.create({"kind": "hearing", "date": self.today + timedelta(1)})
                    ]
                }
            )
        self.assertFalse(action.step_ids)
        as_manager.write(
            {
                "step_ids": [
                    Command.create(
                        {
                            "kind": "claim_filed",
                            "date": self.today - timedelta(days=5),
                            "document": base64.b64encode(b"%PDF-1.4 claim form"),
                            "document_name": "claim.pdf",
                        }
                    )
                ]
            }
        )
        step = action.step_ids
        messages = len(case.message_ids)
        # What happened, when, and its document stay as logged on the case.
        for vals in (
            {"kind": "hearing"},
            {"date": self.today - timedelta(days=8)},
            {"date": self.today},
            {"document": base64.b64encode(b"%PDF-1.4 another form")},
            {"document": False},
        ):
            with self._refused(UserError, "on record once it is recorded"):
                step.with_user(self.user_manager).write(vals)
            with self._refused(UserError, "on record once it is recorded"):
                as_manager.write({"step_ids": [Command.update(step.id, vals)]})
        self.assertEqual(step.kind, "claim_filed")
        self.assertEqual(step.date, self.today - timedelta(days=5))
        self.assertEqual(base64.b64decode(step.document), b"%PDF-1.4 claim form")
        self.assertEqual(len(case.message_ids), messages)
        # Its note can be completed.
        step.with_user(self.user_manager).note = "Filed by the lawyer"
        self.assertEqual(step.note, "Filed by the lawyer")

    def test_bad_input_refused(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=40)
        case = self._case_of(self.customer)
        with self.assertRaises(ValidationError):
            self._open(case, amount_principal=-5.0)
        with self.assertRaises(ValidationError):
            self._open(case, move_line_ids=[Command.clear()])
        self.assertFalse(self.LegalAction.search([("case_id", "=", case.id)]))
        self.assertEqual(case.stage_id, self.stage_current)
        action = self._open(case)
        # One action an item.
        with self._refused(ValidationError, "already covered"):
            self._open(case, move_line_ids=[Command.set(self._item(invoice).ids)])
        as_manager = action.with_user(self.user_manager)
        with self._refused(ValidationError, "in the future"):
            as_manager.write(
                {
                    "step_ids": [
                        Command.create({"kind": "hearing", "date": self.today + timedelta(days=3)})
                    ]
                }
            )
        with self._refused(UserError, "Close button"):
            as_manager.write({"step_ids": [Command.create({"kind": "closed"})]})
        with self.assertRaises(UserError):
            as_manager.action_close("won_the_lottery")
        with self.assertRaises(UserError):
            as_manager.unlink()
        self.assertFalse(action.step_ids)
        self.assertEqual(action.state, "open")
        # The case cannot leave the Legal stage by hand while the action holds it.
        with self._refused(UserError, "close its open legal action first"):
            case.with_user(self.user_manager).write({"stage_id": self.stage_reminder.id})
