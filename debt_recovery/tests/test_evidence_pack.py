import base64
import io
import logging
import re
import subprocess
import time
import zipfile
from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import format_date
from odoo.tools.pdf import PdfFileReader

from ..models.debt_recovery_workflow_mixin import workflow_step
from .common import DebtRecoveryCommon
from .test_writeoff import WriteoffCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestEvidencePack(DebtRecoveryCommon, HttpCase):
    """The evidence pack rendered for real by wkhtmltopdf (an HttpCase, so
    that wkhtmltopdf fetches the styles from the test server)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref("base.fr")
        cls.customer.write(
            {
                "email": "ap@late-payer.example.com",
                "street": "9 rue du Port",
                "zip": "13002",
                "city": "Marseille",
                "country_id": cls.env.ref("base.fr").id,
            }
        )
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.Pack = cls.env["debt.recovery.evidence.pack"]

    def _text(self, pdf, first=None, last=None):
        command = ["pdftotext", "-layout"]
        if first:
            command += ["-f", str(first), "-l", str(last or first)]
        return subprocess.run(
            [*command, "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()

    def _send_escalation(self, day):
        with freeze_time(day):
            self.Communication._run_escalation(self.company, send=False)
            queued = self.Communication.search(
                [("partner_id", "=", self.customer.id), ("state", "=", "queued")]
            )
            queued.with_context(force_report_rendering=True)._send()
        return queued

    def test_pack_holds_every_communication_in_order(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=8)
        disputed = self._invoice(self.customer, 300.0, days_late=8)
        planned = self._invoice(self.customer, 450.0, days_late=8)
        case = self._case_of(self.customer)
        # Three levels, a fortnight apart, each sent with its PDF kept.
        sent = self.Communication
        for offset in (0, 15, 30):
            sent |= self._send_escalation(self.today + timedelta(days=offset))
        sent = sent.filtered(lambda c: c.case_id == case)
        self.assertGreaterEqual(len(sent), 3)
        self.assertTrue(all(comm.letter_attachment_id for comm in sent))
        # A dispute, a call, a promise broken, a plan agreed, a part payment.
        reason = self.env["debt.recovery.dispute.reason"].search([], limit=1)
        self.env["debt.recovery.dispute"].create(
            {"move_id": disputed.id, "reason_id": reason.id}
        ).action_reject()
        self.env["debt.recovery.call.log"].create(
            {"case_id": case.id, "outcome": "reached", "note": "Spoke to the accountant"}
        ).action_log()
        self.env["debt.recovery.promise"].create(
            {
                "partner_id": self.customer.id,
                "move_line_ids": [Command.set(self._item(planned).ids)],
                "amount": 450.0,
                "date_promised": self.today + timedelta(days=40),
            }
        ).action_mark_broken()
        wizard = (
            self.env["debt.recovery.plan.wizard"]
            .with_context(default_partner_id=self.customer.id, default_company_id=self.company.id)
            .create({"instalment_count": 3})
        )
        wizard.move_line_ids = self._item(planned)
        plan = self.env["debt.recovery.plan"].browse(wizard.action_create_plan()["res_id"])
        if plan.state != "active":
            plan.action_activate()
        self._pay(invoice, amount=250.0)
        # A legal action with a claim filed (the claim form as its document).
        claim_form = sent[0].letter_attachment_id.raw
        legal = (
            self.env["debt.recovery.legal.action"]
            .with_user(self.user_manager)
            .create({"case_id": case.id, "move_line_ids": [Command.set(self._item(invoice).ids)]})
        )
        legal.write(
            {
                "step_ids": [
                    Command.create(
                        {
                            "kind": "claim_filed",
                            "date": self.today,
                            "note": "Injonction de payer",
                            "document": base64.b64encode(claim_form),
                            "document_name": "claim.pdf",
                        }
                    )
                ]
            }
        )

        started = time.monotonic()
        action = (
            case.with_user(self.user_manager)
            .with_context(force_report_rendering=True)
            .action_evidence_pack()
        )
        elapsed = time.monotonic() - started
        pack = case.evidence_pack_ids
        self.assertEqual(len(pack), 1)
        self.assertEqual(action["url"], f"/web/content/{pack.pdf_attachment_id.id}?download=true")
        # Who produced it and when, logged on the case.
        self.assertEqual(pack.user_id, self.user_manager)
        self.assertTrue(pack.date)
        self.assertIn("Evidence pack produced by Mona Manager", case.message_ids[0].body)
        pdf = pack.pdf_attachment_id.raw
        self.assertTrue(pdf.startswith(b"%PDF-"))
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        self.assertEqual(len(reader.pages), pack.page_count)
        comms = case.communication_ids.sorted(lambda c: (c.date_sent or c.date, c.id))
        self.assertEqual(pack.communication_count, len(comms))
        _logger.info(
            "Evidence pack: %s pages, %s communications, %.1f s",
            pack.page_count,
            len(comms),
            elapsed,
        )

        text = " ".join(self._text(pdf).split())
        # The table of contents: every section with the page it starts on.
        toc = " ".join(self._text(pdf, 1).split())
        for title in (
            "Summary of the Claim",
            "Statement of Account",
            "Communications",
            "Call Log",
            "Promises to Pay",
            "Payment Plans and Acknowledgements of Debt",
            "Disputes and Their Resolution",
            "Payments Received",
            "Legal Action",
        ):
            match = re.search(rf"(\d+)\. {re.escape(title)} (\d+)", toc)
            self.assertTrue(match, f"{title} is in the contents with its page.")
            number, page = match.groups()
            page_text = " ".join(self._text(pdf, int(page)).split())
            self.assertIn(f"{number}. {title}", page_text, f"{title} starts on page {page}.")
        # Every communication, in date order, with its channel, recipient, status.
        positions = []
        for number, comm in enumerate(comms, start=1):
            ref = f"C-{number:03d}"
            match = re.search(rf"{ref} \S+ {re.escape(comm.level_id.name)}", text)
            self.assertTrue(match, f"{ref} ({comm.level_id.name}) is listed.")
            positions.append(match.start())
        self.assertEqual(positions, sorted(positions))
        self.assertIn("ap@late-payer.example.com", text)
        for comm in comms:
            self.assertIn(
                dict(comm._fields["status"]._description_selection(self.env))[comm.status], text
            )
        # Each stored copy is appended as it was sent (listed with its page).
        for number in range(1, len(comms) + 1):
            self.assertRegex(toc, rf"Appendix C-{number:03d}: ")
        appendix = re.search(r"Appendix C-001: .*? (\d+) ", toc)
        first_copy = " ".join(self._text(pdf, int(appendix.group(1))).split())
        self.assertIn(comms[0].line_ids.move_id[:1].name, first_copy)
        # The rest of the file: calls, promises, plans, disputes, payments, legal steps.
        for expected in (
            "Spoke to the accountant",
            "Broken",
            "Payment Plan Agreement",
            disputed.name,
            "Rejected",
            "250.00",
            "Claim Filed",
            "Injonction de payer",
        ):
            self.assertIn(expected, text)
        self.assertRegex(
            text, rf"{re.escape(case.name)} - evidence pack - page 1 of {pack.page_count}"
        )
        # Whole sentences, dated in the pack's language.
        today = format_date(self.env, self.today)
        self.assertIn(f"Opened on {today} by Mona Manager", text)
        self.assertIn(f"C-001: email as sent on {format_date(self.env, comms[0].date_sent)}", text)
        self.assertIn("To Late Payer Ltd <ap@late-payer.example.com>", text)
        self.assertIn("Status: Active; agreed on", text)
        self.assertIn(f"Open items as of {today}", text)

        # The ZIP of the originals: the stored copies byte for byte, and an index.
        archive = zipfile.ZipFile(io.BytesIO(pack.zip_attachment_id.raw))
        names = archive.namelist()
        self.assertIn("index.csv", names)
        copies = [name for name in names if re.match(r"communications/C-\d{3}_.*\.pdf$", name)]
        self.assertEqual(len(copies), len(comms))
        self.assertEqual(copies, sorted(copies))
        for name, comm in zip(copies, comms, strict=True):
            self.assertEqual(archive.read(name), comm.letter_attachment_id.raw)
        emails = [name for name in names if name.endswith("_email.html")]
        self.assertEqual(len(emails), len(comms.filtered("sent_body")))
        self.assertTrue(any(name.startswith("plans/") for name in names))
        self.assertTrue(any(name.startswith("legal/") for name in names))
        self.assertEqual(
            archive.read(next(n for n in names if n.endswith("evidence_pack.pdf"))), pdf
        )
        index = archive.read("index.csv").decode()
        self.assertIn(comms[0].letter_checksum, index)

    def test_only_recovery_users_produce_it(self):
        self._invoice(self.customer, 100.0, days_late=8)
        case = self._case_of(self.customer)
        with self.assertRaises(AccessError):
            case.with_user(self.user_invoicing).action_evidence_pack()
        # Nor a manager of another company (the case's company rule).
        outsider = self._other_company_manager(self.setup_other_company()["company"])
        with self.assertRaises(AccessError):
            case.with_user(outsider).action_evidence_pack()
        self.assertFalse(self.Pack.search([("case_id", "=", case.id)]))
        case.with_user(self.user_collector).with_context(
            force_report_rendering=True
        ).action_evidence_pack()
        pack = self.Pack.search([("case_id", "=", case.id)])
        self.assertEqual(pack.user_id, self.user_collector)
        self.assertEqual(pack.communication_count, 0)
        # A record of what was produced: nobody deletes it.
        with self.assertRaises(AccessError):
            pack.with_user(self.user_manager).unlink()
        with self.assertRaises(UserError):
            pack.unlink()

    def test_a_pack_is_produced_never_created(self):
        """Nobody records a pack "produced by" someone else, or on another
        day: a pack is made by producing it, with who and when it was."""
        self._invoice(self.customer, 100.0, days_late=8)
        case = self._case_of(self.customer)
        forged = {
            "case_id": case.id,
            "user_id": self.user_manager.id,
            "date": "2020-01-01 09:00:00",
        }
        for user in (self.user_collector, self.user_manager):
            with self.assertRaises(UserError):
                self.Pack.with_user(user).create(forged)
            with self.assertRaises(UserError):
                self.Pack.with_user(user).create({"case_id": case.id})
        self.assertFalse(self.Pack.search([("case_id", "=", case.id)]))
        # Produced: by whoever produced it, now, whatever the context says.
        before = fields.Datetime.now().replace(microsecond=0)
        case.with_user(self.user_collector).with_context(
            default_user_id=self.user_manager.id, default_date="2020-01-01 09:00:00"
        ).action_evidence_pack()
        pack = self.Pack.search([("case_id", "=", case.id)])
        self.assertEqual(pack.user_id, self.user_collector)
        self.assertGreaterEqual(pack.date, before)

    def test_hundred_communications_timed(self):
        """A case with 100 communications, each with its stored PDF and
        email body: the pack's time is logged, not asserted (the target is
        under 30 s). To read it: scripts/test.sh
        debt_recovery/tests/test_evidence_pack.py -k hundred -s
        --odoo-log-level=info."""
        self._invoice(self.customer, 5000.0, days_late=90)
        case = self._case_of(self.customer)
        self._send_escalation(self.today)
        first = case.communication_ids
        self.assertEqual(len(first), 1)
        pdf = first.letter_attachment_id.raw
        level = first.level_id
        Attachment = self.env["ir.attachment"]
        with workflow_step():
            comms = self.Communication.create(
                [
                    {
                        "company_id": self.company.id,
                        "case_id": case.id,
                        "partner_id": self.customer.id,
                        "contact_id": self.customer.id,
                        "currency_id": self.company.currency_id.id,
                        "level_id": level.id,
                        "date": self.today - timedelta(days=200 - number),
                        "date_sent": self.today - timedelta(days=200 - number),
                        "state": "sent",
                        "channel_email": True,
                        "channel_letter": bool(number % 2),
                        "sent_body": first.sent_body,
                        "sent_checksum": first.sent_checksum,
                    }
                    for number in range(99)
                ]
            )
            attachments = Attachment.create(
                [
                    {
                        "name": f"letter {comm.id}.pdf",
                        "raw": pdf,
                        "mimetype": "application/pdf",
                        "res_model": comm._name,
                        "res_id": comm.id,
                    }
                    for comm in comms
                ]
            )
            for comm, attachment in zip(comms, attachments, strict=True):
                comm.write(
                    {"letter_attachment_id": attachment.id, "letter_checksum": attachment.checksum}
                )
        self.assertEqual(len(case.communication_ids), 100)
        started = time.monotonic()
        case.with_user(self.user_manager).with_context(
            force_report_rendering=True
        ).action_evidence_pack()
        elapsed = time.monotonic() - started
        pack = case.evidence_pack_ids
        self.assertEqual(pack.communication_count, 100)
        archive = zipfile.ZipFile(io.BytesIO(pack.zip_attachment_id.raw))
        self.assertEqual(
            len([n for n in archive.namelist() if re.match(r"communications/C-\d{3}_.*\.pdf$", n)]),
            100,
        )
        # Measured, not asserted (the machine's load varies): the target is
        # under 30 s; 8 to 12 s measured on 2 shared cores (160 pages).
        _logger.info(
            "Evidence pack of 100 communications: %s pages, %s KB PDF, %s KB ZIP, %.1f s",
            pack.page_count,
            len(pack.pdf_attachment_id.raw) // 1024,
            len(pack.zip_attachment_id.raw) // 1024,
            elapsed,
        )

    def _item(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")


@tagged("post_install", "-at_install")
class TestEvidencePackClaim(WriteoffCommon):
    """The claim the pack states: what was received, what is still owed."""

    def _bill(self, amount):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Court fee", "quantity": 1, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        bill.action_post()
        return bill

    def test_summary_counts_payments_and_uncharged_costs_only(self):
        written_off = self._invoice(self.customer, 1000.0, days_late=40)
        claimed = self._invoice(self.customer, 400.0, days_late=40)
        case = self._case_of(self.customer)
        # 250 paid, the 750 left written off: 250 received, not 1,000.
        self._pay(written_off, amount=250.0)
        writeoff = self._write_off(default_move_line_ids=self._item(written_off).ids)
        self.assertEqual(writeoff.amount_total, 750.0)
        # A legal action with a court fee charged (its charge invoice is
        # owed) and a bailiff's fee not charged yet.
        action = (
            self.env["debt.recovery.legal.action"]
            .with_user(self.user_manager)
            .create({"case_id": case.id, "move_line_ids": [Command.set(self._item(claimed).ids)]})
        )
        action.with_user(self.user_manager).write(
            {"cost_ids": [Command.create({"move_id": self._bill(120.0).id, "recoverable": True})]}
        )
        action.with_user(self.user_manager).action_charge_costs()
        charge = case.charge_ids
        self.assertEqual(len(charge), 1)
        action.with_user(self.user_manager).write(
            {"cost_ids": [Command.create({"move_id": self._bill(60.0).id, "recoverable": True})]}
        )
        case.with_user(self.user_manager).action_evidence_pack()
        pack = case.evidence_pack_ids
        summary = pack._debt_section_summary()
        rows = dict(summary.values["rows"])
        self.assertEqual(summary.values["paid"], 250.0)
        self.assertEqual(rows["Principal still owed"], 400.0 + charge.move_id.amount_total)
        self.assertEqual(rows["Recoverable legal costs"], 60.0, "The 120 charged is owed.")
        self.assertEqual(rows["Principal written off in our accounts, still owed"], 750.0)
        self.assertEqual(summary.values["total"], sum(rows.values()))
        # As the pack states it.
        html = " ".join(re.sub(r"<[^>]+>", " ", pack.pdf_attachment_id.raw.decode()).split())
        self.assertIn("Payments and credits received on these invoices $ 250.00", html)
        self.assertIn("Recoverable legal costs $ 60.00", html)

    def test_sentences_dated_in_the_language_of_the_pack(self):
        self._invoice(self.customer, 400.0, days_late=40)
        case = self._case_of(self.customer)
        self.env["res.lang"]._activate_lang("en_GB")
        self.env["debt.recovery.legal.action"].with_user(self.user_manager).create(
            {"case_id": case.id, "court": "Tribunal de commerce de Lyon", "reference": "RG 1"}
        )
        # Produced by a manager working in British English (the session's language).
        case.with_user(self.user_manager).with_context(lang="en_GB").action_evidence_pack()
        html = " ".join(
            re.sub(r"<[^>]+>", " ", case.evidence_pack_ids.pdf_attachment_id.raw.decode()).split()
        )
        day = self.today.strftime("%d/%m/%Y")
        self.assertIn(
            f"Court: Tribunal de commerce de Lyon; Case number: RG 1; Opened on {day} by "
            "Mona Manager; Open.",
            html,
        )
        self.assertIn(f"Open items as of {day}", html)
