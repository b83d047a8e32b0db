import csv
import io
import json
import re
import zipfile
from contextlib import closing, contextmanager
from datetime import timedelta

from markupsafe import escape

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import format_amount, format_date
from odoo.tools.pdf import PdfFileReader
from odoo.tools.translate import xml_translate

from .common import DebtRecoveryCommon
from .test_writeoff import WriteoffCommon


class AgencyCommon(DebtRecoveryCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Agency = cls.env["debt.recovery.agency"]
        cls.Handoff = cls.env["debt.recovery.agency.handoff"]
        cls.Report = cls.env["debt.recovery.agency.report"]
        cls.Wizard = cls.env["debt.recovery.agency.handoff.wizard"]
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.stage_agency = cls.env.ref("debt_recovery.stage_agency")
        cls.customer.write(
            {
                "email": "ap@late-payer.example.com",
                "street": "12 Slow Street",
                "zip": "75011",
                "city": "Paris",
                "ref": "C-0042",
            }
        )
        cls.agency_partner = cls.env["res.partner"].create(
            {"name": "Recover-All Agency", "is_company": True, "email": "cases@recover.example"}
        )
        cls.agency = cls.Agency.create(
            {
                "partner_id": cls.agency_partner.id,
                "commission_percent": 15.0,
                "commission_minimum": 50.0,
                "fee_per_case": 20.0,
                "collects": "agency",
                "announce_letter": False,
            }
        )
        cls.clearing = cls.env["account.account"].create(
            {
                "name": "Agency clearing",
                "code": "499100",
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        cls.company.debt_agency_clearing_account_id = cls.clearing
        cls.invoice_old = cls._invoice(cls.customer, 1000.0, days_late=40)
        cls.invoice_new = cls._invoice(cls.customer, 500.0, days_late=20)
        cls.invoice_not_due = cls._invoice(cls.customer, 300.0, days_late=-10)
        cls.case = cls.Case.search(
            [("partner_id", "=", cls.customer.id), ("company_id", "=", cls.company.id)]
        )

    @classmethod
    def _receivable(cls, invoices):
        return invoices.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _hand_off(self, cases=None, agency=None, user=None, lines=None, send_letter=False):
        cases = cases or self.case
        wizard = (
            self.Wizard.with_user(user or self.user_manager)
            .with_context(active_model="debt.recovery.case", active_ids=cases.ids)
            .create({"agency_id": (agency or self.agency).id})
        )
        wizard.send_letter = send_letter
        if lines is not None:
            wizard.move_line_ids = [Command.set(lines.ids)]
        wizard.action_hand_off()
        return self.Handoff.search([("case_id", "in", cases.ids)], order="id")

    def _collect(self, handoff, amount, kind="collected", date=None, user=None):
        return handoff.with_user(user or self.user_manager)._record_report(
            {"date": date or self.today, "kind": kind, "amount": amount, "note": "Reported"}
        )

    @contextmanager
    def _assertRefused(self, exception, pattern):
        """Refused with a message matching ``pattern``, in a savepoint (Odoo's
        assertRaises): what the refusal leaves behind is what a user gets."""
        with self.assertRaises(exception) as refusal:
            yield
        self.assertRegex(str(refusal.exception), pattern)

    def _escalate(self):
        self.Communication._run_escalation(self.company, partners=self.customer, send=False)
        return self.Communication.search([("partner_id", "=", self.customer.id)])


@tagged("post_install", "-at_install")
class TestAgency(AgencyCommon):
    def test_handoff_pauses_escalation_and_exports_the_case_file(self):
        overdue = self._receivable(self.invoice_old | self.invoice_new)
        self.assertEqual(self.case.amount_overdue_company, 1500.0)
        handoff = self._hand_off()
        self.assertEqual(len(handoff), 1)
        self.assertEqual(handoff.move_line_ids, overdue, "All overdue items, not the one not due.")
        self.assertEqual((handoff.amount_handed, handoff.state), (1500.0, "active"))
        self.assertEqual(overdue.debt_agency_handoff_id, handoff)
        self.assertEqual(self.case.stage_id, self.stage_agency)
        self.assertIn("collection agency", overdue[0].debt_exclusion_reason)
        self.assertIn("Recover-All Agency", self.case.message_ids[0].body)
        # Our escalation leaves the handed items alone.
        self.assertFalse(self._escalate())

        # The machine-readable case file: items and totals are the case's.
        rows = list(csv.DictReader(io.StringIO(handoff.case_file_csv_id.raw.decode())))
        items = [row for row in rows if row["record_type"] == "item"]
        self.assertEqual(
            sorted(row["reference"] for row in items),
            sorted((self.invoice_old | self.invoice_new).mapped("name")),
        )
        self.assertAlmostEqual(
            sum(float(row["amount_open"]) for row in items), self.case.amount_overdue_company
        )
        (total,) = (row for row in rows if row["record_type"] == "total")
        self.assertEqual(float(total["amount_open"]), 1500.0)
        (debtor,) = (row for row in rows if row["record_type"] == "debtor")
        self.assertEqual((debtor["name"], debtor["reference"]), ("Late Payer Ltd", "C-0042"))
        self.assertTrue(
            any(
                "12 Slow Street" in row["detail"] for row in rows if row["record_type"] == "address"
            )
        )
        data = json.loads(handoff.case_file_json_id.raw)
        self.assertEqual(data["totals"]["amount_open"], self.case.amount_overdue_company)
        self.assertEqual(data["totals"]["amount_handed"], 1500.0)
        self.assertEqual(
            [item["due_date"] for item in data["items"]],
            [str(self.today - timedelta(days=40)), str(self.today - timedelta(days=20))],
        )
        self.assertAlmostEqual(
            data["totals"]["interest"], sum(overdue.mapped("debt_interest_accrued")), places=2
        )
        self.assertAlmostEqual(
            data["totals"]["costs"], sum(overdue.mapped("debt_compensation_due")), places=2
        )
        self.assertEqual(data["debtor"]["addresses"][0]["city"], "Paris")
        self.assertEqual(handoff.case_file_pdf_id.res_id, handoff.id)

    def test_case_file_lists_contacts_promises_and_disputes(self):
        # A reminder went out before the hand-off; a promise was broken; a dispute rejected.
        self.Communication._run_escalation(self.company, partners=self.customer)
        comm = self.Communication.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(comm.state, "sent")
        promise = self.env["debt.recovery.promise"].create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": self._receivable(self.invoice_new).ids,
                "amount": 500.0,
                "date_promised": self.today + timedelta(days=3),
            }
        )
        promise.with_user(self.user_manager).action_mark_broken()
        self.env["debt.recovery.call.log"].with_user(self.user_collector).create(
            {"case_id": self.case.id, "outcome": "refused", "note": "Says the goods were late"}
        ).action_log()
        handoff = self._hand_off()
        data = json.loads(handoff.case_file_json_id.raw)
        self.assertEqual(len(data["contacts"]), 2)
        call = next(row for row in data["contacts"] if row["channel"] == "phone call")
        self.assertIn("Says the goods were late", call["status"])
        data["contacts"].remove(call)
        self.assertEqual(data["contacts"][0]["level"], comm.level_id.name)
        self.assertIn("email", data["contacts"][0]["channel"])
        self.assertEqual(
            [(p["amount"], p["date_promised"]) for p in data["promises"]],
            [(500.0, str(self.today + timedelta(days=3)))],
        )
        self.assertEqual(data["promises"][0]["state"], "Broken")

    def test_case_file_zip_holds_the_letters_sent(self):
        """The agency gets the letters we sent, as they were sent: each
        communication's kept document is in the case file's ZIP, byte for
        byte, under the name the JSON gives it."""
        self.Communication._run_escalation(self.company, partners=self.customer)
        comms = self.Communication.search([("partner_id", "=", self.customer.id)])
        self.assertTrue(comms)
        self.assertEqual(set(comms.mapped("state")), {"sent"})
        documents = comms.letter_attachment_id | comms.email_attachment_id
        self.assertTrue(all(comms.mapped("letter_attachment_id")), "The sent letters are kept.")
        handoff = self._hand_off()
        archive = zipfile.ZipFile(io.BytesIO(handoff.case_file_zip_id.raw))
        self.assertEqual(handoff.case_file_zip_id.mimetype, "application/zip")
        names = archive.namelist()
        letters = [name for name in names if name.startswith("letters/")]
        self.assertEqual(len(letters), len(documents))
        data = json.loads(handoff.case_file_json_id.raw)
        kept = [doc for contact in data["contacts"] for doc in contact["documents"]]
        self.assertEqual(sorted(doc["file"] for doc in kept), sorted(letters))
        for doc in kept:
            (attachment,) = documents.filtered(lambda a, doc=doc: a.checksum == doc["checksum"])
            self.assertEqual(archive.read(doc["file"]), attachment.raw, doc["name"])
        # With the case file itself, as the agency gets it in one file.
        for attachment in handoff.case_file_pdf_id | handoff.case_file_csv_id:
            self.assertEqual(archive.read(attachment.name), attachment.raw)

    def test_document_sentences_are_whole_translation_units(self):
        """The sentences of the case file, the announcement and the evidence
        pack's section are each one term for translators (not "For", "by",
        "to", "on" around the fields), and read whole in the documents."""
        for xmlid in (
            "debt_recovery.report_agency_case_file_document",
            "debt_recovery.report_agency_announcement_document",
            "debt_recovery.report_evidence_pack_agency",
        ):
            terms = []
            xml_translate(terms.append, self.env.ref(xmlid).arch_db)
            fragments = {
                term
                for term in terms
                if re.sub(r"<[^>]+>|[^\w ]", "", term).strip().lower()
                in {"for", "by", "to", "on", "collected", "handed on", "in all to"}
            }
            self.assertFalse(fragments, xmlid)
        handoff = self._hand_off()
        day = format_date(self.env, handoff.date)
        Report = self.env["ir.actions.report"]
        case_file = Report._render_qweb_html(
            "debt_recovery.action_report_agency_case_file", handoff.ids
        )[0].decode()
        self.assertIn(f"For Recover-All Agency, handed on {day} by {self.company.name}.", case_file)
        letter = Report._render_qweb_html(
            "debt_recovery.action_report_agency_announcement", handoff.ids
        )[0].decode()
        amount = format_amount(self.env, 1500.0, handoff.currency_id)
        self.assertIn(
            f"handed their collection, <strong>{escape(amount)}</strong> in all, to "
            "<strong>Recover-All Agency</strong>, who will contact you.",
            letter,
        )

        def section():
            return str(
                self.env["ir.qweb"]._render(
                    "debt_recovery.report_evidence_pack_agency", {"values": {"handoffs": handoff}}
                )
            )

        nothing = escape(format_amount(self.env, 0.0, handoff.currency_id))
        self.assertIn(
            f"Handed on {day} by {self.user_manager.name} to Recover-All Agency: "
            f"{escape(amount)}, of which {nothing} collected so far; still with the agency.",
            section(),
        )
        handoff.with_user(self.user_manager).action_recall()
        self.assertIn(f"collected; recalled on {day}.", section())

    def test_collection_settles_items_and_bills_commission(self):
        handoff = self._hand_off()
        old, new = self._receivable(self.invoice_old), self._receivable(self.invoice_new)
        report = self._collect(handoff, 1200.0)
        entry = report.move_id
        self.assertEqual(entry.state, "posted")
        clearing_line = entry.line_ids.filtered(lambda line: line.account_id == self.clearing)
        self.assertEqual(
            (clearing_line.debit, clearing_line.partner_id), (1200.0, self.agency_partner)
        )
        # Oldest first: the 1000 invoice is paid, 200 of the 500 one.
        self.assertTrue(old.reconciled)
        self.assertEqual(self.invoice_old.payment_state, "paid")
        self.assertEqual(new.amount_residual, 300.0)
        bill = report.bill_id
        self.assertEqual(
            (bill.move_type, bill.state, bill.partner_id),
            ("in_invoice", "draft", self.agency_partner),
        )
        # 15 % of 1200, and the fee of the case once.
        self.assertEqual((report.commission_amount, report.fee_amount), (180.0, 20.0))
        self.assertEqual(bill.amount_total, 200.0)
        self.assertEqual(handoff.bill_ids, bill)
        self.assertEqual((handoff.amount_collected, handoff.amount_remaining), (1200.0, 300.0))
        self.assertEqual(handoff.state, "active")

        second = self._collect(handoff, 300.0)
        self.assertTrue(new.reconciled)
        self.assertEqual(self.invoice_new.amount_residual, 0.0)
        # 15 % of 1500 is 225, 180 of it billed already; no second fee.
        self.assertEqual((second.commission_amount, second.fee_amount), (45.0, 0.0))
        self.assertEqual(second.bill_id.amount_total, 45.0)
        self.assertEqual(handoff.state, "closed")
        self.assertFalse((old | new).debt_agency_handoff_id)
        # The agency's results.
        self.assertEqual(self.agency.case_count, 1)
        self.assertEqual(
            (
                self.agency.amount_handed,
                self.agency.amount_collected,
                self.agency.amount_commission,
                self.agency.recovery_rate,
            ),
            (1500.0, 1500.0, 245.0, 100.0),
        )

    def test_minimum_commission(self):
        handoff = self._hand_off()
        report = self._collect(handoff, 100.0)
        # 15 % is 15: the minimum of 50 applies.
        self.assertEqual(report.commission_amount, 50.0)
        report = self._collect(handoff, 300.0)
        # 15 % of 400 is 60: 10 more than billed.
        self.assertEqual(report.commission_amount, 10.0)

    def test_customer_pays_us_directly(self):
        self.agency.collects = "direct"
        handoff = self._hand_off()
        moves_before = self.env["account.move"].search_count([])
        report = self._collect(handoff, 400.0)
        self.assertFalse(report.move_id, "The customer's own payment settles the items.")
        self.assertEqual(report.collected_by, "direct")
        self.assertFalse(self._receivable(self.invoice_old).reconciled)
        self.assertEqual(report.bill_id.amount_total, 80.0)  # 60 commission + 20 fee
        self.assertEqual(self.env["account.move"].search_count([]), moves_before + 1)
        self.assertEqual(handoff.amount_remaining, 1100.0)

    def test_settled_by_the_customer_closes_the_handoff(self):
        self.agency.collects = "direct"
        handoff = self._hand_off()
        report = self._collect(handoff, 1500.0)
        # 15 % of 1500 and the fee: billed on the agency's report.
        self.assertEqual(report.bill_id.amount_total, 245.0)
        # The agency's word is no payment: until ours is registered, the items
        # stay with the agency and our reminders stay stopped.
        self.assertEqual(handoff.state, "active", "Reported collected, not paid.")
        items = handoff.move_line_ids
        self.assertFalse(items.filtered("reconciled"))
        self.assertEqual(items.debt_agency_handoff_id, handoff)
        self.assertEqual(self.case.stage_id, self.stage_agency)
        self.Handoff._cron_close_settled()
        self.assertEqual(handoff.state, "active")
        self.assertFalse(self._escalate())
        # The customer's payment to us is registered as usual; part of it first.
        self._pay(self.invoice_old)
        self.Handoff._cron_close_settled()
        self.assertEqual(handoff.state, "active", "500 still unpaid.")
        self._pay(self.invoice_new)
        self.assertTrue(all(handoff.move_line_ids.mapped("reconciled")))
        self.Handoff._cron_close_settled()
        self.assertEqual(handoff.state, "closed")
        self.assertEqual(handoff.bill_ids, report.bill_id, "No second bill.")
        # A hand-off whose items the customer paid us without a report closes
        # with the nightly check, the fee of the case billed.
        self.agency.collects = "agency"
        other = self.env["res.partner"].create({"name": "Pays Us", "is_company": True})
        invoice = self._invoice(other, 80.0, days_late=30)
        second = self._hand_off(cases=self._case_of(other))
        self._pay(invoice)
        self.Handoff._cron_close_settled()
        self.assertEqual(second.state, "closed")
        self.assertEqual(second.bill_ids.amount_total, 20.0)
        self.assertEqual(handoff.state, "closed")

    def test_contact_and_promise_reports_are_recorded(self):
        handoff = self._hand_off()
        contact = self._collect(handoff, 0.0, kind="contact")
        promise = self._collect(handoff, 700.0, kind="promise")
        self.assertEqual(handoff.report_ids, contact | promise)
        self.assertFalse(contact.move_id | contact.bill_id | promise.move_id | promise.bill_id)
        self.assertEqual(handoff.amount_collected, 0.0)
        self.assertIn("Promise to Pay", self.case.message_ids[0].body)

    def test_recall_resumes_escalation(self):
        handoff = self._hand_off()
        self.assertFalse(self._escalate())
        handoff.with_user(self.user_manager).action_recall()
        self.assertEqual(handoff.state, "recalled")
        self.assertFalse(handoff.move_line_ids.debt_agency_handoff_id)
        self.assertEqual(self.case.stage_id, self.stage_current)
        # Nothing collected: the fee of the case is billed as it ends.
        self.assertEqual(handoff.bill_ids.amount_total, 20.0)
        comms = self._escalate()
        self.assertEqual(len(comms), 1)
        self.assertEqual(comms.line_ids.move_line_id, handoff.move_line_ids)
        with self.assertRaises(UserError):
            handoff.with_user(self.user_manager).action_recall()

    def test_bulk_handoff_from_the_list(self):
        other = self.env["res.partner"].create({"name": "Second Debtor", "is_company": True})
        self._invoice(other, 250.0, days_late=30)
        cases = self.case | self._case_of(other)
        handoffs = self._hand_off(cases=cases)
        self.assertEqual(handoffs.case_id, cases)
        self.assertEqual(cases.stage_id, self.stage_agency)
        self.assertEqual(sorted(handoffs.mapped("amount_handed")), [250.0, 1500.0])
        action = self.env.ref("debt_recovery.debt_recovery_agency_handoff_wizard_action")
        self.assertEqual(action.binding_model_id.model, "debt.recovery.case")

    def test_one_handoff_a_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0), (str(self.today), 2.5)])
        invoice_eur = self._invoice(self.customer, 200.0, days_late=15, currency=eur)
        handoffs = self._hand_off()
        self.assertEqual(len(handoffs), 2)
        handoff_eur = handoffs.filtered(lambda h: h.currency_id == eur)
        self.assertEqual((handoff_eur.amount_handed, handoff_eur.amount_handed_company), (200, 100))
        report = self._collect(handoff_eur, 200.0)
        item = self._receivable(invoice_eur)
        self.assertTrue(item.reconciled)
        self.assertEqual((item.amount_residual, item.amount_residual_currency), (0.0, 0.0))
        # Collected at today's rate (2.5): 80 in company currency, 20 of exchange loss.
        self.assertEqual(report.amount_company, 80.0)
        self.assertEqual(report.move_id.line_ids.currency_id, eur)
        self.assertEqual(report.bill_id.currency_id, eur)
        # 15 % of 200 EUR is 30, under the 50 minimum (125 EUR): capped at 200.
        self.assertEqual(report.commission_amount, 125.0)
        self.assertEqual(handoff_eur.state, "closed")


@tagged("post_install", "-at_install")
class TestAgencyRefusals(AgencyCommon):
    def test_agency_without_commission_terms(self):
        no_terms = self.Agency.create(
            {"partner_id": self.env["res.partner"].create({"name": "Free Lunch"}).id}
        )
        with self._assertRefused(UserError, "has no commission terms"):
            self._hand_off(agency=no_terms)
        self.assertFalse(self.Handoff.search([]))
        self.assertNotEqual(self.case.stage_id, self.stage_agency)
        self.assertFalse(self.case.move_line_ids.debt_agency_handoff_id)

    def test_collection_larger_than_handed(self):
        handoff = self._hand_off()
        moves = self.env["account.move"].search_count([])
        with self._assertRefused(ValidationError, "cannot have collected"):
            self._collect(handoff, 1600.0)
        self._collect(handoff, 1000.0)
        moves = self.env["account.move"].search_count([])
        with self._assertRefused(ValidationError, "only .*500.00"):
            self._collect(handoff, 500.01)
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(len(handoff.report_ids), 1)
        self.assertEqual(handoff.amount_collected, 1000.0)

    def test_collection_in_a_locked_period(self):
        handoff = self._hand_off()
        self.company.fiscalyear_lock_date = self.today
        moves = self.env["account.move"].search_count([])
        with self._assertRefused(UserError, "locked"):
            self._collect(handoff, 500.0)
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertFalse(handoff.report_ids)
        self.assertFalse(self._receivable(self.invoice_old).reconciled)

    def test_collection_without_clearing_account(self):
        handoff = self._hand_off()
        self.company.debt_agency_clearing_account_id = False
        with self._assertRefused(UserError, "agency clearing account"):
            self._collect(handoff, 500.0)
        self.assertFalse(handoff.report_ids)

    def test_bad_report_dates_and_amounts(self):
        handoff = self._hand_off()
        with self._assertRefused(ValidationError, "future"):
            self._collect(handoff, 100.0, date=self.today + timedelta(days=1))
        with self._assertRefused(ValidationError, "before the hand-off"):
            self._collect(handoff, 100.0, date=self.today - timedelta(days=1))
        with self._assertRefused(ValidationError, "positive"):
            self._collect(handoff, 0.0)
        with self._assertRefused(ValidationError, "negative"):
            self._collect(handoff, -5.0, kind="promise")
        self.assertFalse(handoff.report_ids)

    def test_items_held_by_another_record(self):
        promised = self._receivable(self.invoice_new)
        promise = self.env["debt.recovery.promise"].create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": promised.ids,
                "amount": 500.0,
                "date_promised": self.today + timedelta(days=3),
            }
        )
        with self._assertRefused(ValidationError, "already holds"):
            self._hand_off(lines=self._receivable(self.invoice_old) | promised)
        self.assertFalse(self.Handoff.search([]))
        # By default, the wizard leaves the promised item out.
        handoff = self._hand_off()
        self.assertEqual(handoff.move_line_ids, self._receivable(self.invoice_old))
        self.assertEqual(promised.debt_promise_id, promise)
        # Handed once: not twice.
        with self._assertRefused(UserError, "no overdue item"):
            self._hand_off()

    def test_manual_moves_to_and_from_the_agency_stage(self):
        with self._assertRefused(UserError, "Hand to Agency"):
            self.case.with_user(self.user_manager).write({"stage_id": self.stage_agency.id})
        self._hand_off()
        with self._assertRefused(UserError, "recall it from the collection agency"):
            self.case.with_user(self.user_manager).write({"stage_id": self.stage_reminder.id})
        self.assertEqual(self.case.stage_id, self.stage_agency)

    def test_records_change_only_through_their_actions(self):
        handoff = self._hand_off()
        with self._assertRefused(UserError, "Record Agency Report"):
            self.Report.with_user(self.user_manager).create(
                {"handoff_id": handoff.id, "kind": "collected", "amount": 10.0}
            )
        with self.assertRaises(UserError):
            handoff.with_user(self.user_manager).write({"state": "closed"})
        with self.assertRaises(UserError):
            handoff.with_user(self.user_manager).unlink()
        self._collect(handoff, 100.0)
        with self.assertRaises(UserError):
            handoff.report_ids.with_user(self.user_manager).write({"amount": 1.0})

    def test_what_was_handed_never_changes(self):
        """The items, case, agency, write-offs and date of a hand-off are set
        as it is made: a manager's direct write (RPC) is refused, nothing
        changes; a hand-off is made only through the wizard."""
        handoff = self._hand_off()
        items = handoff.move_line_ids
        other_agency = self.Agency.create(
            {"partner_id": self.env["res.partner"].create({"name": "Other Agency"}).id}
        )
        other = self.env["res.partner"].create({"name": "Other Debtor", "is_company": True})
        self._invoice(other, 90.0, days_late=30)
        other_case = self._case_of(other)
        writeoff = self.env["debt.recovery.writeoff"].search([], limit=1)
        not_due = self._receivable(self.invoice_not_due)
        attempts = {
            "Items Handed": {"move_line_ids": [Command.link(not_due.id)]},
            "Items Handed (removed)": {"move_line_ids": [Command.unlink(items[0].id)]},
            "Case": {"case_id": other_case.id},
            "Agency": {"agency_id": other_agency.id},
            "Written-Off Debt Handed": {"writeoff_ids": [Command.set(writeoff.ids)]},
            "Handed On": {"date": self.today - timedelta(days=60)},
        }

        def state():
            self.env.invalidate_all()
            return (
                handoff.move_line_ids,
                handoff.case_id,
                handoff.agency_id,
                handoff.writeoff_ids,
                handoff.date,
                (items | not_due).mapped("debt_agency_handoff_id"),
                handoff.amount_handed,
            )

        before = state()
        for label, vals in attempts.items():
            with self.subTest(field=label):
                with self._assertRefused(UserError, label.split(" (")[0]):
                    handoff.with_user(self.user_manager).write(vals)
                self.assertEqual(state(), before, "Nothing changed.")
        # The note (the instructions to the agency) stays editable.
        handoff.with_user(self.user_manager).note = "Call before noon"
        self.assertEqual(handoff.note, "Call before noon")
        # Nor is a hand-off made directly, back-dated, bypassing the wizard.
        with self._assertRefused(UserError, "change only through its actions"):
            self.Handoff.with_user(self.user_manager).create(
                {
                    "case_id": other_case.id,
                    "partner_id": other.id,
                    "agency_id": self.agency.id,
                    "currency_id": self.company.currency_id.id,
                    "move_line_ids": [Command.set(other_case.move_line_ids.ids)],
                    "date": self.today - timedelta(days=60),
                }
            )
        self.assertEqual(self.Handoff.search([]), handoff)
        self.assertFalse(other_case.move_line_ids.debt_agency_handoff_id)


@tagged("post_install", "-at_install")
class TestAgencyAccess(AgencyCommon):
    def test_only_a_manager_hands_collects_and_recalls(self):
        collector = self.user_collector
        with self.assertRaises(AccessError):
            self._hand_off(user=collector)
        handoff = self._hand_off()
        # The collector sees the hand-off, its reports and the agency.
        self.assertEqual(self.Handoff.with_user(collector).search([]), handoff)
        self.assertEqual(handoff.with_user(collector).amount_handed, 1500.0)
        self.assertEqual(self.agency.with_user(collector).case_count, 1)
        self._collect(handoff, 100.0)
        self.assertEqual(len(handoff.with_user(collector).report_ids), 1)
        with self.assertRaises(UserError):
            self._collect(handoff, 100.0, user=collector)
        with self.assertRaises(UserError):
            handoff.with_user(collector).action_recall()
        with self.assertRaises(AccessError):
            self.agency.with_user(collector).commission_percent = 1.0
        self.assertEqual(handoff.state, "active")
        self.assertEqual(handoff.amount_collected, 100.0)

    def test_access_matrix(self):
        """Each kind of user, each action: only a recovery manager of the
        company hands a case, records a report, recalls, or sets an agency's
        terms; everyone else is refused and nothing changes."""
        handoff = self._hand_off()
        other_company = self.setup_other_company()["company"]
        users = {
            "public": self.env.ref("base.public_user"),
            "portal": self._portal_user(),
            "billing": self.user_invoicing,
            "collector": self.user_collector,
            "manager": self.user_manager,
            "manager_other_company": self._other_company_manager(other_company),
        }
        other = self.env["res.partner"].create({"name": "Matrix Debtor", "is_company": True})
        self._invoice(other, 90.0, days_late=30)
        other_case = self._case_of(other)
        operations = {
            "hand_off": lambda user: self._hand_off(cases=other_case, user=user),
            "record_report": lambda user: self._collect(handoff, 100.0, user=user),
            "open_report_wizard": lambda user: handoff.with_user(user).action_record_report(),
            "refresh_case_file": lambda user: handoff.with_user(user).action_generate_case_file(),
            "recall": lambda user: handoff.with_user(user).action_recall(),
            "agency_terms": lambda user: self.agency.with_user(user).write(
                {"commission_percent": 1.0}
            ),
        }

        def state():
            self.env.invalidate_all()
            return (
                handoff.state,
                len(handoff.report_ids),
                handoff.case_file_pdf_id.id,
                self.agency.commission_percent,
                self.Handoff.search_count([]),
                other_case.stage_id,
            )

        before = state()
        for operation, run in operations.items():
            for key, user in users.items():
                with (
                    self.subTest(operation=operation, user=key),
                    closing(self.cr.savepoint()),
                ):
                    if key == "manager":
                        run(user)
                        if operation != "open_report_wizard":
                            self.assertNotEqual(state(), before, "The manager's action is done.")
                    else:
                        with self.assertRaises(UserError):
                            run(user)
                        self.assertEqual(state(), before, "Nothing changed.")
                self.env.invalidate_all()

    def test_other_company_sees_nothing(self):
        handoff = self._hand_off()
        other_company = self.setup_other_company()["company"]
        other_manager = self._other_company_manager(other_company)
        self.assertFalse(self.Handoff.with_user(other_manager).search([]))
        self.assertFalse(self.Agency.with_user(other_manager).search([]))
        with self.assertRaises(AccessError):
            handoff.with_user(other_manager).action_recall()


@tagged("post_install", "-at_install")
class TestAgencyCaseFilePdf(AgencyCommon, HttpCase):
    """The case file and the announcement rendered by wkhtmltopdf (an HttpCase:
    it fetches the styles from the test server)."""

    def test_case_file_and_announcement_pdfs(self):
        self.agency.announcement_text = "Call us on 01 23 45 67 89, weekdays."
        # A reminder sent before, its PDF kept: the agency gets it in the ZIP.
        self.Communication.with_context(force_report_rendering=True)._run_escalation(
            self.company, partners=self.customer
        )
        sent = self.Communication.search([("partner_id", "=", self.customer.id)])
        self.assertTrue(sent.letter_attachment_id.raw.startswith(b"%PDF-"))
        handoff = self.Handoff.browse()
        self.env.invalidate_all()
        wizard = (
            self.Wizard.with_user(self.user_manager)
            .with_context(
                active_model="debt.recovery.case",
                active_ids=self.case.ids,
                force_report_rendering=True,
            )
            .create({"agency_id": self.agency.id})
        )
        wizard.send_letter = True
        wizard.action_hand_off()
        handoff = self.Handoff.search([("case_id", "=", self.case.id)])
        for attachment in (handoff.case_file_pdf_id, handoff.letter_attachment_id):
            self.assertTrue(attachment.raw.startswith(b"%PDF-"), attachment.name)
            self.assertGreaterEqual(len(PdfFileReader(io.BytesIO(attachment.raw)).pages), 1)
        archive = zipfile.ZipFile(io.BytesIO(handoff.case_file_zip_id.raw))
        (letter_file,) = (name for name in archive.namelist() if name.startswith("letters/"))
        self.assertEqual(archive.read(letter_file), sent.letter_attachment_id.raw)
        self.assertEqual(archive.read(handoff.case_file_pdf_id.name), handoff.case_file_pdf_id.raw)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("debt_recovery.action_report_agency_case_file", handoff.ids)[0]
            .decode()
        )
        for invoice in self.invoice_old | self.invoice_new:
            self.assertIn(invoice.name, html)
        self.assertNotIn(self.invoice_not_due.name, html)
        self.assertIn("Late Payer Ltd", html)
        letter = (
            self.env["ir.actions.report"]
            ._render_qweb_html("debt_recovery.action_report_agency_announcement", handoff.ids)[0]
            .decode()
        )
        self.assertIn("Recover-All Agency", letter)
        self.assertIn("Call us on 01 23 45 67 89", letter)
        # Sent to the customer from the case, with the letter.
        message = self.case.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertIn(self.customer, message.partner_ids)
        self.assertEqual(message.attachment_ids, handoff.letter_attachment_id)

        # The evidence pack has the agency's section, its files and the letter.
        self._collect(handoff, 400.0)
        self.case.with_user(self.user_manager).with_context(
            force_report_rendering=True
        ).action_evidence_pack()
        pack = self.env["debt.recovery.evidence.pack"].search([("case_id", "=", self.case.id)])
        self.assertIn("Collection Agency", pack.section_names)
        names = zipfile.ZipFile(io.BytesIO(pack.zip_attachment_id.raw)).namelist()
        agency_files = [name for name in names if name.startswith("agency/")]
        self.assertEqual(
            sorted(name.rsplit(".", 1)[1] for name in agency_files), ["csv", "json", "pdf", "pdf"]
        )
        section = str(
            self.env["ir.qweb"]._render(
                "debt_recovery.report_evidence_pack_agency", {"values": {"handoffs": handoff}}
            )
        )
        self.assertIn("Recover-All Agency", section)
        self.assertIn(self.invoice_old.name, section)


@tagged("post_install", "-at_install")
class TestAgencyWrittenOff(WriteoffCommon):
    """An agency still pursues debt written off: what it collects is booked
    as recovered."""

    def test_agency_recovers_written_off_debt(self):
        agency = self.env["debt.recovery.agency"].create(
            {
                "partner_id": self.env["res.partner"].create({"name": "Last Resort Ltd"}).id,
                "commission_percent": 30.0,
                "announce_letter": False,
            }
        )
        clearing = self.env["account.account"].create(
            {
                "name": "Agency clearing",
                "code": "499100",
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        self.company.debt_agency_clearing_account_id = clearing
        invoice = self._invoice(self.customer, 600.0, days_late=200)
        case = self._case_of(self.customer)
        writeoff = self._write_off(default_case_ids=case.ids)
        self.assertEqual(case.stage_id, self.stage_written_off)
        wizard = (
            self.env["debt.recovery.agency.handoff.wizard"]
            .with_user(self.user_manager)
            .with_context(active_model="debt.recovery.case", active_ids=case.ids)
            .create({"agency_id": agency.id})
        )
        self.assertFalse(wizard.move_line_ids)
        self.assertEqual(wizard.writeoff_ids, writeoff)
        wizard.action_hand_off()
        handoff = case.agency_handoff_ids
        self.assertEqual((handoff.amount_handed, handoff.writeoff_ids), (600.0, writeoff))
        self.assertEqual(case.stage_id, self.stage_written_off, "Written off, still pursued.")
        data = json.loads(handoff.case_file_json_id.raw)
        self.assertEqual(data["totals"]["written_off"], 600.0)
        self.assertEqual(data["written_off"][0]["invoices"], [invoice.name])

        report = handoff.with_user(self.user_manager)._record_report(
            {"kind": "collected", "amount": 250.0}
        )
        self.assertEqual(writeoff.amount_recovered, 250.0)
        recovery = writeoff.recovery_ids
        self.assertEqual(recovery.amount, 250.0)
        income = recovery.move_id.line_ids.filtered(
            lambda line: line.account_id == self.recovered_account
        )
        self.assertEqual(income.credit, 250.0)
        # The credit the agency's entry left is matched by the recovery.
        credit = report.move_id.line_ids.filtered(lambda line: line.account_id != clearing)
        self.assertTrue(credit.reconciled)
        self.assertEqual(report.bill_id.amount_total, 75.0)
        with self.assertRaises(ValidationError):
            handoff.with_user(self.user_manager)._record_report(
                {"kind": "collected", "amount": 350.01}
            )
        handoff.with_user(self.user_manager)._record_report({"kind": "collected", "amount": 350.0})
        self.assertEqual(writeoff.amount_recoverable, 0.0)
        self.assertEqual(handoff.state, "closed")
        self.assertEqual(case.stage_id, self.stage_written_off)
