import re
import subprocess
import tempfile
from datetime import timedelta

from freezegun import freeze_time

from odoo import Command
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
        # French before the company's ladder is copied from the default one:
        # its levels' wording in French comes with the copy.
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["debt_recovery"], ["fr_FR"])
        # Straight to the level of the age, so that each level has its letter.
        policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        policy.escalation_mode = "age"
        cls.invoices = {}
        cls.company.write({"company_registry": "RCS Lyon 987 654 321", "vat": False})
        for days, amount in ((10, 1111.11), (25, 2222.22), (40, 3333.33), (65, 4444.44)):
            partner = (
                cls.customer
                if days == 10
                else cls.env["res.partner"].create(
                    {
                        "name": f"Customer {days}",
                        "is_company": True,
                        "email": f"c{days}@example.com",
                        "street": f"{days} rue des Lilas",
                        "street2": "Bâtiment C",
                        "zip": "69003",
                        "city": "Lyon",
                        "country_id": cls.env.ref("base.fr").id,
                        "ref": f"C-{days:05d}",
                    }
                )
            )
            cls.invoices[days] = cls._invoice(partner, amount, days_late=days)
        # Queued only: sent in the tests that need it, with real PDFs.
        cls.Communication._run_escalation(cls.company, send=False)
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

    def _pdf_text(self, report, records):
        """Text of the real PDF, as the customer gets it (wkhtmltopdf with
        patched Qt gives styled PDFs a text layer)."""
        return self._text(self._pdf(report, records))

    def _fonts(self, pdf):
        """``pdffonts`` rows of ``pdf``: (name, embedded)."""
        with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            tmp.write(pdf)
            tmp.flush()
            out = subprocess.run(
                ["pdffonts", tmp.name], capture_output=True, check=True
            ).stdout.decode()
        rows = out.splitlines()[2:]
        # name type encoding emb sub uni object ID: "emb" is 5th from the end.
        return [(row.split()[0], row.split()[-5]) for row in rows if row.strip()]

    def test_every_letter_in_english_and_french(self):
        """Each letter kind as the customer gets it, in English and, for a
        French customer, in French: the full postal address, the references,
        the amount, the payment deadline as a date in the customer's format,
        the company's identity, the signatory, embedded fonts."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["debt_recovery"], ["fr_FR"])
        collector = self.env.user
        collector.partner_id.phone = "+33 4 00 00 00 01"
        expected = {
            "Friendly Reminder": (("Payment reminder",), ("Rappel de paiement",), "1,111.11"),
            "Firm Reminder": (
                ("payment requested",),
                ("Factures échues",),
                "2,222.22",
            ),
            "Formal Notice of Default": (
                ("Formal notice of default", "Late-payment interest"),
                ("Mise en demeure", "Intérêts de retard"),
                "3,333.33",
            ),
            "Final Demand": (
                ("Final demand", "Late-payment interest"),
                ("Dernier avis", "Intérêts de retard"),
                "4,444.44",
            ),
        }
        letters = self.comms.filtered(lambda c: c.partner_id != self.customer)
        letters = letters | self.comms.filtered(lambda c: c.level_id.days == 7)
        self.assertEqual(set(letters.level_id.mapped("name")), set(expected))
        letters.case_id.user_id = collector
        for comm in letters:
            partner = comm.partner_id
            if partner == self.customer:
                partner.write(
                    {"street": "9 rue du Port", "zip": "13002", "city": "Marseille", "ref": "C-10"}
                )
                partner.country_id = self.env.ref("base.fr")
            english, french, amount = expected[comm.level_id.name]
            deadline = comm.date_deadline
            self.assertEqual(deadline, self.today + timedelta(days=comm.level_id.payment_days))
            self.assertGreater(comm.level_id.payment_days, 0)
            for lang in ("en_US", "fr_FR"):
                partner.lang = lang
                pdf = self._pdf(self.letter, comm)
                text = " ".join(self._text(pdf).split())
                with self.subTest(level=comm.level_id.name, lang=lang):
                    self.assertEqual(self._pages(pdf), 1, "The letter fits on one page.")
                    self.assertIn(partner.street, text)
                    self.assertIn(f"{partner.zip} {partner.city}", text)
                    self.assertIn("France", text)
                    self.assertIn(partner.ref, text, "The customer number.")
                    self.assertIn(comm.case_id.name, text, "Our reference.")
                    self.assertIn(collector.name, text, "The collector signs.")
                    self.assertIn(self.company.company_registry, text, "The company's identity.")
                    if lang == "en_US":
                        self.assertIn(amount, text)
                        self.assertIn(deadline.strftime("%m/%d/%Y"), text, "Pay by a date.")
                        for wording in english:
                            self.assertIn(wording, text)
                        self.assertIn("Yours faithfully", text)
                    else:
                        self.assertIn(amount[-6:].replace(".", ","), text)
                        self.assertIn(deadline.strftime("%d/%m/%Y"), text, "French date.")
                        for wording in french:
                            self.assertIn(wording, text)
                        for english_text in ("Yours faithfully", "Net amount due", "Dear Sir"):
                            self.assertNotIn(english_text, text)
                    # Nothing was sent before: no letter speaks of an earlier reminder.
                    self.assertNotIn("previous reminder", text.lower())
                    self.assertNotIn("rappel précédent", text.lower())
                    fonts = self._fonts(pdf)
                    self.assertTrue(fonts, "The PDF has a text layer.")
                    self.assertEqual({emb for _name, emb in fonts}, {"yes"}, fonts)

    def test_legal_basis_of_the_companys_country(self):
        """The formal notice states the late-payment law of the company's
        country, the EU directive elsewhere, and the interest and fixed
        compensation accrued on each invoice at that law's rate; the
        reminders before it do not."""
        notice = self.comms.filtered(lambda c: c.level_id.legal_notice)[:1]
        reminder = self.comms.filtered(lambda c: c.level_id.days == 7)
        self.assertTrue(notice and reminder)
        Rate = self.env["debt.recovery.reference.rate"]
        Rate.search([]).unlink()
        day = self.today - timedelta(days=1000)
        for kind, rate in (("ecb_mro", 2.0), ("de_base", 1.0), ("boe_bank", 3.0)):
            Rate.create(
                {
                    "kind_id": self.env.ref(f"debt_recovery.rate_kind_{kind}").id,
                    "date_from": day,
                    "rate": rate,
                }
            )
        # 3,333.33 due 40 days ago, at each law's rate: amount x rate x 40 / 365.
        statutes = {
            "base.fr": ("L441-10", "12.00 %", "43.84"),
            "base.de": ("§ 288 BGB", "10.00 %", "36.53"),
            "base.nl": ("6:119a", "10.00 %", "36.53"),
            "base.es": ("Ley 3/2004", "10.00 %", "36.53"),
            "base.uk": ("Late Payment of Commercial Debts (Interest) Act 1998", "11.00 %", "40.18"),
            "base.us": ("Directive 2011/7/EU", "10.00 %", "36.53"),
        }
        for country, wording in statutes.items():
            self.company.country_id = self.env.ref(country)
            html = " ".join(self._html(self.letter, notice).split())
            for text in wording:
                self.assertIn(text, html, country)
            self.assertIn("o_debt_recovery_interest_amounts", html, "The amounts' place.")
            self.assertNotIn("L441-10" if country != "base.fr" else "2011/7/EU", html)
            self.assertNotIn("o_debt_recovery_legal_basis", self._html(self.letter, reminder))
        # The PDF the customer gets, under French law.
        self.company.country_id = self.env.ref("base.fr")
        text = " ".join(self._pdf_text(self.letter, notice).split())
        for expected in ("L441-10", "12.00 %", "43.84", "40.00", "Interest to date"):
            self.assertIn(expected, text)
        # A policy that claims nothing states no law and no amount.
        notice.policy_id.interest_rule = "none"
        html = self._html(self.letter, notice)
        self.assertNotIn("o_debt_recovery_legal_basis", html)
        self.assertNotIn("o_debt_recovery_interest", html)

    def test_final_demand_fits_one_page_in_each_language(self):
        """The longest letter (final demand with its statutory notice), in
        the language and under the law of each country, on one A4 page."""
        final = self.comms.filtered(lambda c: c.level_id.days == 60)
        self.assertTrue(final.level_id.legal_notice)
        partner = final.partner_id
        partner.write({"street": "Hauptstraße 1", "street2": "Hinterhaus", "zip": "10115"})
        langs = {"base.fr": "fr_FR", "base.de": "de_DE", "base.nl": "nl_NL", "base.es": "es_ES"}
        langs["base.uk"] = "en_GB"
        for lang in set(langs.values()):
            self.env["res.lang"]._activate_lang(lang)
        self.env["ir.module.module"]._load_module_terms(["debt_recovery"], list(langs.values()))
        final.case_id.user_id = self.env.user
        for country, lang in langs.items():
            self.company.country_id = self.env.ref(country)
            partner.lang = lang
            with self.subTest(lang=lang):
                self.assertEqual(self._pages(self._pdf(self.letter, final)), 1)

    def test_address_in_the_envelope_window(self):
        """The recipient sits where the company's window envelopes show it."""
        comm = self.comms[:1]
        self.company.debt_letter_window = "left"
        html = self._html(self.letter, comm)
        self.assertIn("o_debt_recovery_window_left", html)
        self.company.debt_letter_window = "right"
        html = self._html(self.letter, comm)
        self.assertIn("o_debt_recovery_window_right", html)

    def test_signature_of_the_level(self):
        comm = self.comms[:1]
        comm.level_id.signature = "<p>Jeanne Durand, Head of Credit</p>"
        text = " ".join(self._pdf_text(self.letter, comm).split())
        self.assertIn("Jeanne Durand, Head of Credit", text)

    def test_no_blank_letter_leaves(self):
        """wkhtmltopdf hides the text whose web font it cannot fetch: with
        report.url unreachable the letter would be blank. It is not sent: the
        communication fails with the reason, and nothing is kept."""
        comm = self.comms[:1]
        self.env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")
        try:
            comm.with_context(force_report_rendering=True)._send()
        finally:
            self.env["ir.config_parameter"].sudo().set_param("report.url", "")
        self.assertEqual(comm.state, "failed")
        self.assertIn("without any text", comm.failure_reason)
        self.assertIn("report.url", comm.failure_reason)
        self.assertFalse(comm.mail_message_id, "No email left.")
        self.assertFalse(comm.letter_attachment_id, "No blank document kept.")

    def test_letter_in_the_customers_language(self):
        """A French customer's letter, with the module's French translation
        loaded, reads in French, with French dates and amounts."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["debt_recovery"], ["fr_FR"])
        comm = self.comms.filtered(lambda c: c.partner_id != self.customer)[:1]
        (comm.contact_id or comm.partner_id).lang = "fr_FR"
        text = " ".join(self._pdf_text(self.letter, comm).split())
        for french in ("Net à payer", "Modalités de paiement", "Jours de retard"):
            self.assertIn(french, text)
        for english in ("Net amount due", "How to pay", "Days Overdue"):
            self.assertNotIn(english, text)
        self.assertIn(comm.date.strftime("%d/%m/%Y"), text)
        self.assertIn(comm.line_ids.move_id.name, text)

    def test_hostile_names_are_escaped(self):
        comm = self.comms.filtered(lambda c: c.partner_id == self.customer)
        html = self._html(self.letter, comm)
        self.assertNotIn("<script>alert", html)
        self.assertIn("&lt;script&gt;", html)
        self.assertNotIn("<b>Road</b>", html)

    def _send(self, comms):
        comms.with_context(force_report_rendering=True)._send()
        self.assertEqual(set(comms.mapped("state")), {"sent"})

    def _text(self, pdf):
        return subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()

    def test_emails_rendered_together_each_keep_their_own_letter(self):
        """Sent together, the PDFs are rendered in one go and cut apart: each
        communication keeps its own letter, with the letterhead and its own
        page numbers, and nothing of another customer's."""
        self._send(self.comms)
        names = {comm: comm.line_ids.move_id.name for comm in self.comms}
        for comm in self.comms:
            pdf = comm.letter_attachment_id.raw
            self.assertTrue(pdf.startswith(b"%PDF-"))
            self.assertEqual(self._pages(pdf), 1)
            text = " ".join(self._text(pdf).split())
            self.assertIn(names[comm], text)
            for other in self.comms - comm:
                self.assertNotIn(names[other], text, "Another customer's invoice.")
            self.assertIn(self.company.name, text, "The letterhead.")
            self.assertIn("1 / 1", text, "Page numbers of the letter itself.")
            self.assertEqual(comm.email_attachment_id, comm.letter_attachment_id)

    def test_each_page_carries_only_its_styles(self):
        """wkhtmltopdf loads the header and footer for every page, and each
        letter: each gets the style rules it uses, inline, not the whole
        style sheet fetched from the server."""
        self._pdf(self.letter, self.comms[:1])  # the style sheets, generated
        html = self.Report._render_qweb_html(self.letter, self.comms[:2].ids)[0]
        url = self._asset_url(str(html))
        self.assertGreater(len(self.Report._debt_asset_rules(url)), 1000, "The whole sheet.")
        whole = self.env["ir.attachment"].sudo().search([("url", "=", url)]).file_size
        bodies, ids, header, footer, _args = self.Report._get_report(self.letter)._prepare_html(
            html, report_model="debt.recovery.communication"
        )
        self.assertEqual(ids, self.comms[:2].ids)
        self.assertIn(".o_footer", footer)
        # Letters of one company share one letterhead: one copy, not one each
        # (wkhtmltopdf loads it again for every page).
        self.assertEqual(str(header).count('class="header'), 1)
        self.assertEqual(str(footer).count('class="footer'), 1)
        for page in (header, footer, *bodies):
            self.assertNotIn("report_assets_common", page)
            inline = "".join(re.findall(r"<style>(.*?)</style>", str(page), re.DOTALL))
            self.assertTrue(inline)
            self.assertLess(len(inline), whole / 3, "The page's rules only.")
        self.assertIn(".table", "".join(map(str, bodies)), "The letter's table keeps its style.")

    def _asset_url(self, page):
        return re.search(r"/web/assets/[^\"']*report_assets_common[^\"']*\.css", page).group(0)

    def test_letters_printed_in_batch_as_one_pdf(self):
        self._send(self.comms)
        letters = self.comms.filtered("channel_letter")
        self.assertEqual(len(letters), 2, "Formal notice and final demand go by post too.")
        self.assertEqual(set(letters.mapped("letter_state")), {"to_print"})
        action = letters.with_context(force_report_rendering=True).action_print_letters()
        attachment = self.env["ir.attachment"].browse(
            int(action["params"]["url"].split("/")[3].split("?")[0])
        )
        self.assertTrue(attachment.raw.startswith(b"%PDF-"))
        self.assertEqual(self._pages(attachment.raw), len(letters), "One page per letter.")
        self.assertEqual(set(letters.mapped("letter_state")), {"printed"})
        with self.assertRaises(UserError):
            self.comms.filtered(lambda c: not c.channel_letter).action_print_letters()

    def _download(self, action):
        return self.env["ir.attachment"].browse(
            int(action["params"]["url"].split("/")[3].split("?")[0])
        )

    def test_printed_letters_kept_and_reprinted_as_duplicates(self):
        """First printing renders the letters once (one call), each kept as its
        own PDF; a later payment changes nothing in them; a reprint is the kept
        copy stamped DUPLICATE."""
        partners = self.env["res.partner"].create(
            [{"name": f"Paper {index}", "is_company": True} for index in range(3)]
        )
        invoices = self.env["account.move"]
        for index, partner in enumerate(partners):
            invoices |= self._invoice(partner, 100.0 * (index + 1), days_late=10)
        self.Communication._run_escalation(self.company, partners=partners)
        letters = self.Communication.search([("partner_id", "in", partners.ids)])
        self.assertEqual(len(letters), 3)
        self.assertEqual(set(letters.mapped("letter_state")), {"to_print"})
        self.assertFalse(letters.letter_attachment_id, "Nothing is rendered before printing.")

        action = letters.with_context(force_report_rendering=True).action_print_letters()
        batch = self._download(action).raw
        self.assertEqual(self._pages(batch), 3)
        self.assertNotIn("DUPLICATE", self._text(batch), "The first printing is the original.")
        documents = letters.letter_attachment_id
        self.assertEqual(len(documents), 3, "Each letter kept as its own PDF.")
        kept = {}
        for letter in letters:
            document = letter.letter_attachment_id
            self.assertEqual((document.res_model, document.res_id), (letter._name, letter.id))
            self.assertTrue(document.raw.startswith(b"%PDF-"))
            self.assertEqual(self._pages(document.raw), 1)
            self.assertEqual(letter.letter_checksum, document.checksum)
            kept[letter] = document.raw
        self.assertEqual(len(set(kept.values())), 3)

        self._pay(invoices)
        action = letters.with_context(force_report_rendering=True).action_print_letters()
        reprint = self._download(action).raw
        for letter in letters:
            self.assertEqual(letter.letter_attachment_id.raw, kept[letter], "Byte for byte.")
            self.assertEqual(letter.letter_attachment_id.checksum, letter.letter_checksum)
            self.assertEqual(letter.state, "sent", "Printed before the payment: still a record.")
        self.assertEqual(self._pages(reprint), 3)
        text = self._text(reprint)
        self.assertEqual(text.count("DUPLICATE - copy of the document sent on"), 3, text)
        for letter in letters:
            self.assertIn(letter.letter_checksum, text, "Each page names its original.")

        self.assertEqual(
            self.env["ir.attachment"].search_count(
                [("res_model", "=", letters._name), ("res_id", "in", letters.ids)]
            ),
            3,
            "No new rendering kept.",
        )

    def test_letter_shows_credits_net_due_today_and_history(self):
        """What the customer reads: the items past their due date apart from
        the one due today, the credit deducted, the net amount, and the
        earlier reminder that really left, with its date."""
        paper = self.env["res.partner"].create({"name": "Paper History", "is_company": True})
        overdue = self._invoice(paper, 1000.0, days_late=25)
        with freeze_time(self.today - timedelta(days=14)):
            self.Communication._run_escalation(self.company, partners=paper)
            first = self.Communication.search([("partner_id", "=", paper.id)])
            self.assertEqual(first.level_id.days, 7)
            first.action_mark_printed()
        due_today = self._invoice(paper, 300.0, days_late=0)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": paper.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Credit", "quantity": 1, "price_unit": 250.0, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        self.Communication._run_escalation(self.company, partners=paper)
        letter = self.Communication.search([("partner_id", "=", paper.id)]) - first
        self.assertEqual(letter.line_ids.move_id, overdue | due_today)
        letter.with_context(force_report_rendering=True).action_print_letters()
        self.assertEqual(letter.amount_total, 1050.0)
        html = self._html(self.letter, letter)
        past, _sep, rest = html.partition("Invoice not yet overdue")
        self.assertIn(overdue.name, past)
        self.assertNotIn(due_today.name, past)
        self.assertIn("Due today", rest)
        self.assertIn(refund.name, rest, "The credit deducted is shown.")
        self.assertIn(f"Less credit note {refund.name}", rest, "Named by its kind.")
        for amount in ("1,300.00", "250.00", "1,050.00"):
            self.assertIn(amount, rest)
        history = html.partition("Our previous reminders:")[2].partition("</p>")[0]
        self.assertIn(first.level_id.letter_title, history)
        self.assertIn(first.date_sent.strftime("%m/%d/%Y"), history)
        document = letter.letter_attachment_id.raw
        self.assertTrue(document.startswith(b"%PDF-"))
        self.assertEqual(self._pages(document), 1)

    def test_letter_names_each_credit_by_its_kind(self):
        paper = self.env["res.partner"].create({"name": "Paper Credits", "is_company": True})
        self._invoice(paper, 1000.0, days_late=10)
        refund = self._credit_note(paper, 50.0)
        payment = self._unapplied_payment(paper, 100.0)
        self.Communication._run_escalation(self.company, partners=paper)
        letter = self.Communication.search([("partner_id", "=", paper.id)])
        letter.with_context(force_report_rendering=True).action_print_letters()
        self.assertEqual(letter.amount_credit, 150.0)
        document = letter.letter_attachment_id.raw
        self.assertTrue(document.startswith(b"%PDF-"))
        text = " ".join(self._html(self.letter, letter).split())
        self.assertIn(f"Less credit note {refund.name}", text)
        self.assertIn("Less your payment of", text)
        self.assertNotIn(f"Less credit {payment.move_id.name}", text)
        self.assertIn("850.00", text, "The net amount due.")

    def test_emailed_letter_is_the_kept_attachment(self):
        comm = self.comms.filtered(lambda c: c.channel_email and c.channel_letter)[:1]
        self._send(comm)
        self.assertTrue(comm.letter_attachment_id.raw.startswith(b"%PDF-"))
        self.assertEqual(self._pages(comm.letter_attachment_id.raw), 1)
        self.assertIn(comm.letter_attachment_id, comm.mail_message_id.attachment_ids)
        self.assertTrue(comm.sent_body)

    def test_large_batch_rendered_by_several_processes(self):
        """25 letters render in batches side by side (one wkhtmltopdf a
        core): each communication still gets its own letter, one with two
        pages included."""
        partners = self.env["res.partner"].create(
            [{"name": f"Batch Customer {n:02d}", "is_company": True} for n in range(25)]
        )
        for partner in partners:
            self._invoice(partner, 100.0, days_late=10)
        long_one = partners[0]
        for _n in range(40):
            self._invoice(long_one, 10.0, days_late=12)
        self.Communication._run_escalation(self.company, partners=partners, send=False)
        letters = self.Communication.search([("partner_id", "in", partners.ids)])
        self.assertEqual(len(letters), 25)
        documents = letters.with_context(force_report_rendering=True)._render_documents()
        self.assertEqual(set(documents), set(letters.ids))
        for letter in letters:
            text = " ".join(self._text(documents[letter.id]).split())
            self.assertIn(letter.partner_id.name, text)
            for other in partners - letter.partner_id:
                self.assertNotIn(other.name, text)
            pages = self._pages(documents[letter.id])
            if letter.partner_id == long_one:
                self.assertGreater(pages, 1, "41 invoices take more than a page.")
            else:
                self.assertEqual(pages, 1, letter.name)

    def test_batch_is_one_document_with_every_letter_in_its_language(self):
        """The print batch is rendered in one go; each letter keeps its own text."""
        self.env["res.lang"]._activate_lang("fr_FR")
        letters = self.comms[:3]
        (letters[1].contact_id or letters[1].partner_id).lang = "fr_FR"
        pdf = letters.with_context(force_report_rendering=True)._render_letters_pdf()
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
        text = self._pdf_text(self.statement, self.customer)
        self.assertIn("1,611.11", text)
        # In French for a French customer, with the address and the identity.
        self.customer.write(
            {"street": "9 rue du Port", "zip": "13002", "city": "Marseille", "lang": "fr_FR"}
        )
        self.customer.country_id = self.env.ref("base.fr")
        pdf = self._pdf(self.statement, self.customer)
        text = " ".join(self._text(pdf).split())
        for expected in ("Relevé de compte", "Solde", "9 rue du Port", "13002 Marseille"):
            self.assertIn(expected, text)
        self.assertIn("611,11", text)
        self.assertIn(self.company.company_registry, text)
        self.assertNotIn("Statement of Account", text)
        self.assertEqual({emb for _name, emb in self._fonts(pdf)}, {"yes"})

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
        text = " ".join(self._pdf_text(report, plan).split())
        self.assertIn("acknowledges owing", text)
        self.assertIn("1,000.00", text)
        self.assertIn("333.34", text)
        self.assertEqual(self._pages(pdf), 1, "The signatures on the same page.")
        # In French for a French customer, with the address.
        self.customer.write(
            {"street": "9 rue du Port", "zip": "13002", "city": "Marseille", "lang": "fr_FR"}
        )
        self.customer.country_id = self.env.ref("base.fr")
        pdf = self._pdf(report, plan)
        text = " ".join(self._text(pdf).split())
        for expected in ("Accord de plan de paiement", "Factures concernées", "13002 Marseille"):
            self.assertIn(expected, text)
        self.assertIn("333,34", text)
        self.assertNotIn("Payment Plan Agreement", text)
        self.assertEqual({emb for _name, emb in self._fonts(pdf)}, {"yes"})
