import base64
import csv
import hashlib
import io
import logging
import re
import time
import zipfile
from dataclasses import dataclass, field

from markupsafe import Markup
from reportlab.pdfbase.pdfmetrics import stringWidth

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date, format_datetime, html_sanitize
from odoo.tools.pdf import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    PdfFileReader,
    PdfFileWriter,
)

from .debt_recovery_workflow_mixin import workflow_step

_logger = logging.getLogger(__name__)

# The sections of the pack, in order: each is made by the method
# ``_debt_section_<key>`` (which returns an EvidenceSection, or None when
# the case has nothing of the kind). To add one, add its key here where it
# belongs and its method (here, or in a model inheriting this one) with its
# QWeb template (report/debt_recovery_evidence_pack_templates.xml).
SECTION_KEYS = (
    "summary",
    "statement",
    "communications",
    "calls",
    "promises",
    "plans",
    "disputes",
    "payments",
    "agency",
    "legal",
    "writeoff",
)


@dataclass
class EvidenceSection:
    """One section of the evidence pack.

    ``template`` renders its body (it gets ``pack``, ``case``, ``section``
    and ``values``); ``originals`` are ``(path, bytes)`` kept as they are in
    the ZIP; ``appendices`` are ``(label, PDF bytes)`` appended to the pack's
    PDF after the sections, each listed in the table of contents."""

    key: str
    title: str
    template: str
    values: dict = field(default_factory=dict)
    originals: list = field(default_factory=list)
    appendices: list = field(default_factory=list)
    number: int = 0
    page: int = 0


def _safe_name(text):
    return re.sub(r"[^\w.-]+", "_", text or "").strip("_")[:60] or "document"


class DebtRecoveryEvidencePack(models.Model):
    """The evidence pack of a case, as a lawyer or a court asks for it: one
    PDF with a table of contents (the claim, the statement, every
    communication in date order with the copy of what left, calls, promises,
    plans with their agreements, disputes, payments, legal steps), and a ZIP
    of the originals. Who produced it and when is kept."""

    _name = "debt.recovery.evidence.pack"
    _description = "Evidence Pack"
    _inherit = ["debt.recovery.workflow.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Case",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    partner_id = fields.Many2one(related="case_id.partner_id", store=True)
    company_id = fields.Many2one(related="case_id.company_id", store=True)
    date = fields.Datetime(
        string="Produced On", required=True, readonly=True, default=fields.Datetime.now
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Produced By",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )
    pdf_attachment_id = fields.Many2one(
        comodel_name="ir.attachment", string="PDF", readonly=True, ondelete="restrict"
    )
    zip_attachment_id = fields.Many2one(
        comodel_name="ir.attachment", string="Originals (ZIP)", readonly=True, ondelete="restrict"
    )
    pdf_checksum = fields.Char(string="PDF Checksum (SHA-1)", readonly=True)
    page_count = fields.Integer(string="Pages", readonly=True)
    communication_count = fields.Integer(string="Communications", readonly=True)
    section_names = fields.Text(string="Contents", readonly=True)
    duration = fields.Float(string="Produced In (s)", readonly=True, digits=(16, 1))

    # === COMPUTE METHODS === #
    @api.depends("case_id.name", "date")
    def _compute_name(self):
        for pack in self:
            pack.name = self.env._(
                "Evidence Pack %(case)s %(date)s",
                case=pack.case_id.name or "",
                date=format_datetime(self.env, pack.date) if pack.date else "",
            )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        # Who produced it and when are the system's record: a pack is made
        # only by _debt_produce, never created with a "produced by" of choice.
        if not self._debt_workflow_unlocked():
            raise UserError(
                self.env._(
                    "An evidence pack is produced from its case (the Evidence Pack button), "
                    "which records who produced it and when."
                )
            )
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_produced(self):
        raise UserError(self.env._("An evidence pack is a record of what was produced."))

    # === ACTION METHODS === #
    def action_download_pdf(self):
        self.ensure_one()
        return self._download(self.pdf_attachment_id)

    def action_download_zip(self):
        self.ensure_one()
        return self._download(self.zip_attachment_id)

    def _download(self, attachment):
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    # === BUSINESS METHODS === #
    @api.model
    def _debt_produce(self, case):
        """Produce, keep and log the evidence pack of ``case``."""
        started = time.monotonic()
        case.ensure_one()
        case.check_access("read")
        self.check_access("create")
        with workflow_step():
            pack = self.create(
                {"case_id": case.id, "user_id": self.env.user.id, "date": fields.Datetime.now()}
            )
        pack = pack.with_company(case.company_id)
        timings = {}
        sections = pack._debt_sections()
        timings["sections"] = time.monotonic() - started
        pdf, pages = pack._debt_render_pack(sections, timings)
        originals = [original for section in sections for original in section.originals]
        name = _safe_name(case.name)
        mark = time.monotonic()
        zip_bytes = pack._debt_zip(pdf, originals, f"{name}_evidence_pack")
        timings["zip"] = time.monotonic() - mark
        is_pdf = pdf.startswith(b"%PDF-")
        # sudo: the pack's files are the system's record of what it produced
        # (its attachments, linked to it); the producer only reads the case.
        Attachment = self.env["ir.attachment"].sudo()
        attachments = Attachment.create(
            [
                {
                    "name": f"{name}_evidence_pack.{'pdf' if is_pdf else 'html'}",
                    "raw": pdf,
                    "mimetype": "application/pdf" if is_pdf else "text/html",
                    "res_model": self._name,
                    "res_id": pack.id,
                },
                {
                    "name": f"{name}_evidence_pack_originals.zip",
                    "raw": zip_bytes,
                    "mimetype": "application/zip",
                    "res_model": self._name,
                    "res_id": pack.id,
                },
            ]
        )
        communications = next((s for s in sections if s.key == "communications"), None)
        # sudo: the pack's own bookkeeping fields are read-only to users.
        pack.sudo().write(
            {
                "pdf_attachment_id": attachments[0].id,
                "zip_attachment_id": attachments[1].id,
                "pdf_checksum": hashlib.sha1(pdf).hexdigest(),
                "page_count": pages,
                "communication_count": len(communications.values["rows"]) if communications else 0,
                "section_names": "\n".join(f"{s.number}. {s.title}" for s in sections),
                "duration": time.monotonic() - started,
            }
        )
        case.message_post(
            body=self.env._(
                "Evidence pack produced by %(user)s: %(pages)s pages, %(count)s "
                "communications, %(files)s originals (PDF SHA-1 %(checksum)s).",
                user=self.env.user.name,
                pages=pages,
                count=pack.communication_count,
                files=len(originals),
                checksum=pack.pdf_checksum,
            ),
            subtype_xmlid="mail.mt_note",
        )
        _logger.info(
            "Evidence pack of %s: %s pages, %s communications in %.1f s (%s)",
            case.name,
            pages,
            pack.communication_count,
            pack.duration,
            ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()),
        )
        return pack

    def _debt_sections(self):
        """The ordered sections of the pack (``SECTION_KEYS``), numbered."""
        self.ensure_one()
        sections = []
        for key in SECTION_KEYS:
            section = getattr(self, f"_debt_section_{key}")()
            if section:
                section.number = len(sections) + 1
                sections.append(section)
        return sections

    def _debt_case_items(self):
        """Every invoice item of the case (open or paid)."""
        case = self.case_id
        return self.env["account.move.line"].search(
            [
                ("partner_id", "child_of", case.partner_id.id),
                ("company_id", "=", case.company_id.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("move_id.move_type", "in", ("out_invoice", "out_receipt")),
                "|",
                ("debt_case_id", "=", case.id),
                ("debt_communication_line_ids.communication_id.case_id", "=", case.id),
            ],
            order="date_maturity, id",
        )

    def _debt_received_partials(self, items):
        """The matches of ``items`` with what the customer paid or was
        credited (payments, credit notes): not the exchange differences,
        nor the entries that are no payment (``_debt_non_payment_moves``)."""
        partials = self.env["account.partial.reconcile"].search(
            [("debit_move_id", "in", items.ids)], order="max_date, id"
        )
        excluded = partials.exchange_move_id | self._debt_non_payment_moves()
        return partials.filtered(lambda p: p.credit_move_id.move_id not in excluded)

    def _debt_non_payment_moves(self):
        """Entries matched with the case's items that are no payment received
        (a write-off): none here, the sections that book such entries add theirs."""
        return self.env["account.move"]

    # === SECTIONS === #
    def _debt_section_summary(self):
        case = self.case_id
        currency = case.currency_id
        items = self._debt_case_items()
        principal = sum(items.filtered(lambda i: i.amount_residual > 0).mapped("amount_residual"))
        paid = sum(self._debt_received_partials(items).mapped("amount"))
        legal = self.env["debt.recovery.legal.action"].search([("case_id", "=", case.id)])
        # A cost charged is in its charge invoice, already in the principal.
        costs = sum(
            cost.currency_id._convert(cost.amount, currency, case.company_id, cost.date)
            for cost in legal.cost_ids.filtered(lambda c: c.recoverable and not c.charge_line_ids)
        )
        charged = case.charge_ids.filtered(lambda c: c.state == "posted")
        rows = [
            (self.env._("Principal still owed"), principal),
            (self.env._("Late-payment interest accrued, not charged"), case.amount_interest),
            (self.env._("Fixed compensation for recovery costs"), case.amount_compensation),
            (self.env._("Recoverable legal costs"), costs),
        ]
        total = sum(amount for _label, amount in rows)
        return EvidenceSection(
            "summary",
            self.env._("Summary of the Claim"),
            "debt_recovery.report_evidence_pack_summary",
            {
                "rows": rows,
                "total": total,
                "paid": paid,
                "charged": charged,
                "currency": currency,
                "currency_note": self.env._(
                    "In company currency (%(currency)s), as of the day the pack was produced.",
                    currency=currency.name,
                ),
                "items": items,
            },
        )

    def _debt_section_statement(self):
        case = self.case_id
        statement = (
            self.env["report.debt_recovery.report_statement_of_account"]
            .with_company(case.company_id)
            ._get_statement_data(case.partner_id.commercial_partner_id)
        )
        return EvidenceSection(
            "statement",
            self.env._("Statement of Account"),
            "debt_recovery.report_evidence_pack_statement",
            {
                "statement": statement,
                "heading": self.env._(
                    "Open items as of %(date)s", date=format_date(self.env, statement["date"])
                ),
            },
        )

    def _debt_section_communications(self):
        """Every communication of the case in date order, with its channels,
        recipient, status and the stored copy of what left (the PDF as an
        appendix and an original, the email body inline and as an original)."""
        comms = self.case_id.communication_ids.sorted(lambda c: (c.date_sent or c.date, c.id))
        if not comms:
            return None
        statuses = dict(comms._fields["status"]._description_selection(self.env))
        rows, originals, appendices = [], [], []
        for number, comm in enumerate(comms, start=1):
            ref = f"C-{number:03d}"
            day = comm.date_sent or comm.date
            stem = f"communications/{ref}_{day}_{_safe_name(comm.level_id.name)}"
            channels = [
                label
                for flag, label in (
                    (comm.channel_email, self.env._("Email")),
                    (comm.channel_letter, self.env._("Letter")),
                    (comm.channel_phone, self.env._("Phone")),
                )
                if flag
            ]
            contact = comm.contact_id or comm.partner_id
            appendix = False
            document = comm.letter_attachment_id
            if document:
                raw = document.raw
                ext = "pdf" if raw.startswith(b"%PDF-") else "html"
                originals.append((f"{stem}.{ext}", raw))
                if ext == "pdf":
                    appendix = ref
                    appendices.append(
                        (
                            self.env._(
                                "%(ref)s: %(level)s of %(date)s, as sent",
                                ref=ref,
                                level=comm.level_id.name,
                                date=format_date(self.env, day),
                            ),
                            raw,
                        )
                    )
            if comm.email_attachment_id and comm.email_attachment_id != document:
                originals.append((f"{stem}_emailed.pdf", comm.email_attachment_id.raw))
            body = comm.sent_body or ""
            if body:
                originals.append((f"{stem}_email.html", str(body).encode()))
            recipient = contact.display_name
            address = contact.email if comm.channel_email else ""
            subject = comm.mail_message_id.subject or ""
            to = (
                self.env._("To %(recipient)s <%(address)s>", recipient=recipient, address=address)
                if address
                else self.env._("To %(recipient)s", recipient=recipient)
            )
            rows.append(
                {
                    "ref": ref,
                    "comm": comm,
                    "heading": self.env._(
                        "%(ref)s: email as sent on %(date)s",
                        ref=ref,
                        date=format_date(self.env, day),
                    ),
                    "to": self.env._("%(to)s, subject: %(subject)s", to=to, subject=subject)
                    if subject
                    else to,
                    "date": day,
                    "channels": ", ".join(channels),
                    "recipient": recipient,
                    "address": address,
                    "status": statuses.get(comm.status, comm.status or ""),
                    "subject": subject,
                    "body": Markup(html_sanitize(body)) if body else "",
                    "appendix": appendix,
                    "checksum": comm.letter_checksum or comm.sent_checksum or "",
                }
            )
        return EvidenceSection(
            "communications",
            self.env._("Communications"),
            "debt_recovery.report_evidence_pack_communications",
            {"rows": rows},
            originals,
            appendices,
        )

    def _debt_section_calls(self):
        case = self.case_id
        subtype = self.env.ref("debt_recovery.mt_case_call", raise_if_not_found=False)
        calls = self.env["mail.message"].search(
            [
                ("model", "=", case._name),
                ("res_id", "=", case.id),
                ("subtype_id", "=", subtype.id if subtype else False),
            ],
            order="date, id",
        )
        if not calls:
            return None
        return EvidenceSection(
            "calls",
            self.env._("Call Log"),
            "debt_recovery.report_evidence_pack_calls",
            {"calls": calls},
        )

    def _debt_customer_records(self, model, order):
        case = self.case_id
        return self.env[model].search(
            [
                ("partner_id", "child_of", case.partner_id.id),
                ("company_id", "=", case.company_id.id),
            ],
            order=order,
        )

    def _debt_section_promises(self):
        promises = self._debt_customer_records("debt.recovery.promise", "date, id")
        if not promises:
            return None
        return EvidenceSection(
            "promises",
            self.env._("Promises to Pay"),
            "debt_recovery.report_evidence_pack_promises",
            {"promises": promises},
        )

    def _debt_section_plans(self):
        plans = self._debt_customer_records("debt.recovery.plan", "id").filtered(
            lambda p: p.state != "draft"
        )
        if not plans:
            return None
        originals, appendices = [], []
        report = self.env.ref("debt_recovery.action_report_plan_agreement")
        agreements = self.env["ir.actions.report"]._render_qweb_pdf(report, plans.ids)[0]
        ext = "pdf" if agreements.startswith(b"%PDF-") else "html"
        originals.append((f"plans/payment_plan_agreements.{ext}", agreements))
        if ext == "pdf":
            appendices.append((self.env._("Payment plan agreements"), agreements))
        # sudo: the signed copies filed on the plans, which the user can read.
        for attachment in (
            self.env["ir.attachment"]
            .sudo()
            .search([("res_model", "=", "debt.recovery.plan"), ("res_id", "in", plans.ids)])
        ):
            originals.append(
                (f"plans/{attachment.res_id}_{_safe_name(attachment.name)}", attachment.raw)
            )
        return EvidenceSection(
            "plans",
            self.env._("Payment Plans and Acknowledgements of Debt"),
            "debt_recovery.report_evidence_pack_plans",
            {"plans": plans, "terms": {plan.id: self._debt_plan_terms(plan) for plan in plans}},
            originals,
            appendices,
        )

    def _debt_section_disputes(self):
        disputes = self._debt_customer_records("debt.recovery.dispute", "date, id")
        if not disputes:
            return None
        return EvidenceSection(
            "disputes",
            self.env._("Disputes and Their Resolution"),
            "debt_recovery.report_evidence_pack_disputes",
            {"disputes": disputes},
        )

    def _debt_section_payments(self):
        items = self._debt_case_items()
        partials = self.env["account.partial.reconcile"].search(
            [("debit_move_id", "in", items.ids)], order="max_date, id"
        )
        if not partials:
            return None
        rows = [
            {
                "date": partial.max_date,
                "reference": partial.credit_move_id.move_id.name,
                "kind": partial.credit_move_id.move_id.move_type == "out_refund"
                and self.env._("Credit note")
                or self.env._("Payment"),
                "invoice": partial.debit_move_id.move_id.name,
                "amount": partial.debit_amount_currency,
                "currency": partial.debit_currency_id,
            }
            for partial in partials
        ]
        return EvidenceSection(
            "payments",
            self.env._("Payments Received"),
            "debt_recovery.report_evidence_pack_payments",
            {"rows": rows},
        )

    def _debt_section_legal(self):
        actions = self.env["debt.recovery.legal.action"].search(
            [("case_id", "=", self.case_id.id)], order="date, id"
        )
        if not actions:
            return None
        originals, appendices = [], []
        for action in actions:
            for step in action.step_ids.filtered("document"):
                raw = base64.b64decode(step.document)
                name = f"legal/{step.date}_{step.kind}_{_safe_name(step.document_name)}"
                originals.append((name, raw))
                if raw.startswith(b"%PDF-"):
                    appendices.append(
                        (
                            self.env._(
                                "%(step)s of %(date)s (%(action)s)",
                                step=dict(step._fields["kind"]._description_selection(self.env))[
                                    step.kind
                                ],
                                date=format_date(self.env, step.date),
                                action=action.display_name,
                            ),
                            raw,
                        )
                    )
        return EvidenceSection(
            "legal",
            self.env._("Legal Action"),
            "debt_recovery.report_evidence_pack_legal",
            {
                "actions": actions,
                "details": {action.id: self._debt_legal_details(action) for action in actions},
            },
            originals,
            appendices,
        )

    def _debt_plan_terms(self, plan):
        """The plan's terms, each a whole sentence for its translators."""
        states = dict(plan._fields["state"]._description_selection(self.env))
        terms = [self.env._("Status: %(state)s", state=states.get(plan.state, plan.state))]
        if plan.date_agreement:
            terms.append(
                self.env._("agreed on %(date)s", date=format_date(self.env, plan.date_agreement))
            )
        if plan.date_acknowledgement:
            terms.append(
                self.env._(
                    "acknowledgement of debt signed on %(date)s",
                    date=format_date(self.env, plan.date_acknowledgement),
                )
            )
        terms.append(
            self.env._(
                "covers %(covered)s, total %(total)s, paid %(paid)s",
                covered=format_amount(self.env, plan.amount_covered, plan.currency_id),
                total=format_amount(self.env, plan.amount_total, plan.currency_id),
                paid=format_amount(self.env, plan.amount_paid, plan.currency_id),
            )
        )
        return "; ".join(terms) + "."

    def _debt_legal_details(self, action):
        """Who acts, where, since when, and how it stands, as sentences."""
        details = []
        if action.lawyer_id:
            details.append(self.env._("Lawyer: %(name)s", name=action.lawyer_id.name))
        if action.court:
            details.append(self.env._("Court: %(court)s", court=action.court))
        if action.reference:
            details.append(self.env._("Case number: %(number)s", number=action.reference))
        details.append(
            self.env._(
                "Opened on %(date)s by %(user)s",
                date=format_date(self.env, action.date),
                user=action.user_id.name,
            )
        )
        state = dict(action._fields["state"]._description_selection(self.env))[action.state]
        if action.outcome:
            outcome = dict(action._fields["outcome"]._description_selection(self.env))
            details.append(
                self.env._("%(state)s: %(outcome)s", state=state, outcome=outcome[action.outcome])
            )
        else:
            details.append(state)
        return "; ".join(details) + "."

    # === RENDERING === #
    def _debt_render_pack(self, sections, timings=None):
        """(the pack's PDF, its pages): the sections rendered once, the
        page where each starts read from the PDF's outlines, the cover with
        the table of contents rendered with those pages, then the appendices
        (the stored copies, never rendered anew), every page numbered."""
        Report = self.env["ir.actions.report"]
        report = self.env.ref("debt_recovery.action_report_evidence_pack")
        appendices = [appendix for section in sections for appendix in section.appendices]

        def render(part, pages=None):
            # The sections go to the template as they are (never serialized).
            data = {
                "part": part,
                "pages": pages or {},
                "sections": sections,
                "appendix_labels": [
                    self.env._("Appendix %(label)s", label=label) for label, _raw in appendices
                ],
            }
            return Report._render_qweb_pdf(report, self.ids, data=data)[0]

        timings = {} if timings is None else timings
        mark = time.monotonic()
        body = render("body")
        timings["body"] = time.monotonic() - mark
        mark = time.monotonic()
        if not body.startswith(b"%PDF-"):
            # Tests render HTML unless they force the PDF: one after the other.
            return render("cover") + b"\n" + body, 0
        body_reader = PdfFileReader(io.BytesIO(body), strict=False)
        starts = self._debt_outline_pages(body_reader)
        appendix_readers = [
            (label, PdfFileReader(io.BytesIO(raw), strict=False)) for label, raw in appendices
        ]
        cover_pages = 1
        for _attempt in range(3):
            pages = {}
            for section in sections:
                page = starts.get(f"{section.number}.")
                pages[f"s{section.number}"] = cover_pages + page + 1 if page is not None else 0
            page = cover_pages + len(body_reader.pages) + 1
            for index, (_label, reader) in enumerate(appendix_readers):
                pages[f"a{index}"] = page
                page += len(reader.pages)
            cover = render("cover", pages)
            cover_reader = PdfFileReader(io.BytesIO(cover), strict=False)
            if len(cover_reader.pages) == cover_pages:
                break
            cover_pages = len(cover_reader.pages)
        timings["cover"] = time.monotonic() - mark
        mark = time.monotonic()
        writer = PdfFileWriter()
        for reader in (cover_reader, body_reader, *(r for _label, r in appendix_readers)):
            for page in reader.pages:
                if "/Annots" in page:
                    # Links trip PyPDF2 when merging (as _stamp_duplicate does).
                    del page["/Annots"]
                writer.add_page(page)
        pdf = self._debt_number_pages(writer)
        timings["merge"] = time.monotonic() - mark
        return pdf, len(writer.pages)

    @api.model
    def _debt_outline_pages(self, reader):
        """{"N.": page index} of the section headings (outlines "N. Title")."""
        starts = {}
        stack = list(reader.outline)
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack[:0] = item
                continue
            match = re.match(r"\s*(\d+\.)\s", item.title or "")
            if match and match.group(1) not in starts:
                page = self._debt_outline_page(reader, item)
                if page is not None:
                    starts[match.group(1)] = page
        return starts

    @api.model
    def _debt_outline_page(self, reader, item):
        """The page index of an outline item: wkhtmltopdf's give it as a
        number, others as a reference to the page."""
        page = item.get("/Page")
        if isinstance(page, int):
            return int(page)
        if page is not None and hasattr(page, "idnum"):
            for index, candidate in enumerate(reader.pages):
                if getattr(candidate.indirect_reference, "idnum", None) == page.idnum:
                    return index
        number = reader.get_destination_page_number(item)
        return number if number >= 0 else None

    def _debt_number_pages(self, writer):
        """The PDF of ``writer`` with every page numbered "case - evidence
        pack - page n of N" at its foot. The number is one more content
        stream of the page (its own content is left as it is, inside a
        saved graphics state): no page is parsed or rewritten, as merging
        an overlay would (measured: most of the time of a large pack)."""
        total = len(writer.pages)
        font = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type1"),
                    NameObject("/BaseFont"): NameObject("/Helvetica"),
                    NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
                }
            )
        )
        save = DecodedStreamObject()
        save.set_data(b"q\n")
        save_ref = writer._add_object(save)
        for number, page in enumerate(writer.pages, start=1):
            box = page.mediabox
            width = float(box.width)
            left, bottom = float(box.left), float(box.bottom)
            text = self.env._(
                "%(case)s - evidence pack - page %(page)s of %(total)s",
                case=self.case_id.name,
                page=number,
                total=total,
            )
            x = left + width - 20 - stringWidth(text, "Helvetica", 7)
            escaped = (
                text.encode("cp1252", "replace")
                .replace(b"\\", b"\\\\")
                .replace(b"(", b"\\(")
                .replace(b")", b"\\)")
            )
            stamp = DecodedStreamObject()
            stamp.set_data(
                b"\nQ q BT /FEvidencePack 7 Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj ET Q\n"
                % (x, bottom + 10, escaped)
            )
            contents = page.get("/Contents")
            contents = contents.get_object() if contents is not None else None
            streams = (
                list(contents)
                if isinstance(contents, ArrayObject)
                else ([page.raw_get("/Contents")] if contents is not None else [])
            )
            page[NameObject("/Contents")] = ArrayObject(
                [save_ref, *streams, writer._add_object(stamp)]
            )
            resources = page.get("/Resources")
            resources = resources.get_object() if resources is not None else None
            if resources is None:
                resources = DictionaryObject()
                page[NameObject("/Resources")] = resources
            fonts = resources.get("/Font")
            fonts = fonts.get_object() if fonts is not None else None
            if fonts is None:
                fonts = DictionaryObject()
                resources[NameObject("/Font")] = fonts
            fonts[NameObject("/FEvidencePack")] = font
        stream = io.BytesIO()
        writer.write(stream)
        return stream.getvalue()

    def _debt_zip(self, pdf, originals, stem):
        """The ZIP of the originals, with the pack itself and an index of
        every file and its SHA-1."""
        buffer = io.BytesIO()
        index = io.StringIO()
        rows = csv.writer(index)
        rows.writerow(["file", "bytes", "sha1"])
        ext = "pdf" if pdf.startswith(b"%PDF-") else "html"
        files = [(f"{stem}.{ext}", pdf), *originals]
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            seen = set()
            for path, raw in files:
                name = path
                suffix = 2
                while name in seen:
                    base, dot, extension = path.rpartition(".")
                    name = f"{base}_{suffix}.{extension}" if dot else f"{path}_{suffix}"
                    suffix += 1
                seen.add(name)
                archive.writestr(name, raw)
                rows.writerow([name, len(raw), hashlib.sha1(raw).hexdigest()])
            archive.writestr("index.csv", index.getvalue())
        return buffer.getvalue()

    # === TEMPLATE HELPERS === #
    def _debt_amount(self, amount, currency):
        return format_amount(self.env, amount, currency)
