import subprocess
import tempfile

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools.pdf import PdfFileReader

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestRecoveryReports(DebtRecoveryCommon, HttpCase):
    """Letters and statements rendered for real by wkhtmltopdf.

    An HttpCase, so that wkhtmltopdf can fetch the styles from the test server.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write(
            {
                "name": "<script>alert('x')</script> Shady & Sons",
                "email": "ap@shady.example.com",
                "street": "1 Hostile <b>Road</b>",
            }
        )
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.Report = cls.env["ir.actions.report"]
        cls.letter = cls.env.ref("debt_recovery.action_report_recovery_letter")
        cls.statement = cls.env.ref("debt_recovery.action_report_statement_of_account")
        cls.invoices = {}
        for days, amount in ((10, 1111.11), (25, 2222.22), (40, 3333.33), (65, 4444.44)):
            partner = (
                cls.customer
                if days == 10
                else cls.env["res.partner"].create(
                    {
                        "name": f"Customer {days}",
                        "is_company": True,
                        "email": f"c{days}@example.com",
                    }
                )
            )
            cls.invoices[days] = cls._invoice(partner, amount, days_late=days)
        cls.Communication._run_escalation(cls.company)
        cls.comms = cls.Communication.search([("company_id", "=", cls.company.id)], order="id")

    def _html(self, report, records):
        return self.Report._render_qweb_html(report, records.ids)[0].decode()

    def _pdf(self, report, records):
        pdf, fmt = self.Report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report, records.ids
        )
        self.assertEqual(fmt, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"))
        return pdf

    def _pages(self, pdf):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            tmp.write(pdf)
            tmp.flush()
            return len(PdfFileReader(tmp.name).pages)

    def _unstyled_text(self, report, records):
        """Text of a real PDF rendered without the web styles (extractable)."""
        self.env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")
        try:
            pdf = self._pdf(report, records)
        finally:
            self.env["ir.config_parameter"].sudo().set_param("report.url", "")
        result = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        )
        return result.stdout.decode()

    def test_each_level_letter(self):
        expected = {
            "Friendly Reminder": ("Payment reminder", "1,111.11"),
            "Firm Reminder": ("Second reminder", "2,222.22"),
            "Formal Notice of Default": ("late-payment interest", "3,333.33"),
            "Final Demand": ("within 7 days", "4,444.44"),
        }
        self.assertEqual(set(self.comms.level_id.mapped("name")), set(expected))
        for comm in self.comms:
            wording, amount = expected[comm.level_id.name]
            html = self._html(self.letter, comm)
            self.assertIn(wording, html)
            self.assertIn(amount, html)
            self.assertIn(comm.line_ids.move_id.name, html)
            text = self._unstyled_text(self.letter, comm)
            self.assertIn(wording, " ".join(text.split()))
            self.assertIn(amount, text)
            self.assertIn(comm.partner_id.name.split("<")[0] or "Shady & Sons", text)

    def test_hostile_names_are_escaped(self):
        comm = self.comms.filtered(lambda c: c.partner_id == self.customer)
        html = self._html(self.letter, comm)
        self.assertNotIn("<script>alert", html)
        self.assertIn("&lt;script&gt;", html)
        self.assertNotIn("<b>Road</b>", html)

    def test_letters_printed_in_batch_as_one_pdf(self):
        letters = self.comms.filtered("channel_letter")
        self.assertEqual(len(letters), 2, "Formal notice and final demand go by post too.")
        self.assertEqual(set(letters.mapped("letter_state")), {"to_print"})
        action = letters.with_context(force_report_rendering=True).action_print_letters()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        self.assertTrue(attachment.raw.startswith(b"%PDF-"))
        self.assertEqual(self._pages(attachment.raw), len(letters), "One page per letter.")
        self.assertEqual(set(letters.mapped("letter_state")), {"printed"})
        with self.assertRaises(UserError):
            self.comms.filtered(lambda c: not c.channel_letter).action_print_letters()

    def test_batch_is_one_document_with_every_letter_in_its_language(self):
        """The print batch is rendered in one go; each letter keeps its own text."""
        self.env["res.lang"]._activate_lang("fr_FR")
        letters = self.comms[:3]
        (letters[1].contact_id or letters[1].partner_id).lang = "fr_FR"
        self.env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")
        try:
            pdf = letters.with_context(force_report_rendering=True)._render_letters_pdf()
        finally:
            self.env["ir.config_parameter"].sudo().set_param("report.url", "")
        self.assertEqual(self._pages(pdf), 3, "Each letter starts on a new page.")
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        pages = text.split("\f")
        for page, letter in zip(pages, letters, strict=False):
            self.assertIn(letter.partner_id.name.split(">")[-1].strip(), page)
            self.assertIn(letter.line_ids.move_id[:1].name, page)
        day = letters[0].date
        self.assertIn(day.strftime("%m/%d/%Y"), pages[0])
        self.assertIn(day.strftime("%d/%m/%Y"), pages[1], "Dates in the customer's language.")

    def test_statement_of_account(self):
        self._invoice(self.customer, 500.0, days_late=-10)
        html = self._html(self.statement, self.customer)
        self.assertIn("Statement of Account", html)
        self.assertIn("1,111.11", html)
        self.assertIn("500.00", html)
        self.assertIn("Not due", html)
        self.assertIn("1-30 days", html)
        self.assertIn("1,611.11", html, "The balance of the account.")
        self.assertNotIn("<script>alert", html)
        pdf = self._pdf(self.statement, self.customer)
        self.assertGreaterEqual(self._pages(pdf), 1)
        text = self._unstyled_text(self.statement, self.customer)
        self.assertIn("1,611.11", text)

    def test_payment_plan_agreement(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=30)
        wizard = (
            self.env["debt.recovery.plan.wizard"]
            .with_context(default_partner_id=self.customer.id, default_company_id=self.company.id)
            .create({"instalment_count": 3})
        )
        wizard.move_line_ids = invoice.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        plan = self.env["debt.recovery.plan"].browse(wizard.action_create_plan()["res_id"])
        report = self.env.ref("debt_recovery.action_report_plan_agreement")
        html = self._html(report, plan)
        for text in ("Payment Plan Agreement", invoice.name, "333.33", "333.34", "Signature"):
            self.assertIn(text, html)
        self.assertNotIn("<script>alert", html)
        pdf = self._pdf(report, plan)
        self.assertGreaterEqual(self._pages(pdf), 1)
        text = " ".join(self._unstyled_text(report, plan).split())
        self.assertIn("acknowledges owing", text)
        self.assertIn("1,000.00", text)
        self.assertIn("333.34", text)
