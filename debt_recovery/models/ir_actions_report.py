import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import lxml.html

from odoo import models, tools
from odoo.exceptions import UserError
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

from ..tools.css import page_classes, parse_css, slim_css

_logger = logging.getLogger(__name__)

# wkhtmltopdf uses one core: batches of letters render side by side, one
# process a core (at most four, not to starve the server's other work).
PDF_PROCESSES = max(1, min(4, os.cpu_count() or 1))

ASSET_URL = re.compile(r"/web/assets/[0-9a-f]+/(?P<bundle>[\w.]+?)\.min\.css")
STYLESHEET_LINK = re.compile(
    r"""<link\b[^>]*?\bhref=["'](/web/assets/[^"']+\.css)["'][^>]*>""", re.IGNORECASE
)


@dataclass
class PdfJob:
    """A wkhtmltopdf process rendering the documents ``res_ids``."""

    process: subprocess.Popen
    folder: str
    res_ids: list


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    # === PDF BATCHES === #
    def _debt_renders_pdf(self):
        """Whether PDFs are really rendered (Odoo renders HTML under tests,
        unless a test forces the rendering)."""
        testing = tools.config["test_enable"] or tools.config["test_file"]
        return not testing or self.env.context.get("force_report_rendering")

    def _debt_render_pdfs(self, batches):
        """{res_id: PDF} of ``batches``: [(renderer, report, res_ids)], each
        batch one wkhtmltopdf call, up to ``PDF_PROCESSES`` at once.

        The HTML of a batch is rendered (the database's part, here, in this
        transaction) while the batches before it are turned into PDF by
        their own processes. Each batch's PDF is cut into one PDF a document
        at its top-level outlines; a document of a batch that cannot be cut
        is missing from the result (the caller renders it alone).
        """
        documents = {}
        running = []
        try:
            for renderer, report, res_ids in batches:
                if len(running) >= PDF_PROCESSES:
                    documents.update(self._debt_finish_pdf(running.pop(0)))
                running.append(renderer._debt_start_pdf(report, res_ids))
            while running:
                documents.update(self._debt_finish_pdf(running.pop(0)))
        finally:
            for job in running:
                job.process.kill()
                job.process.wait()
                shutil.rmtree(job.folder, ignore_errors=True)
        return documents

    def _debt_start_pdf(self, report_ref, res_ids):
        """Renders the HTML of ``res_ids`` and starts wkhtmltopdf on it."""
        report = self._get_report(report_ref)
        data = {"report_type": "pdf", "debug": False}
        renderer = self.with_context(debug=False)
        html = renderer._render_qweb_html(report_ref, res_ids, data=data)[0]
        bodies, _html_ids, header, footer, paperformat_args = report.with_context(
            debug=False
        )._prepare_html(html, report_model=report.model)
        command = [_get_wkhtmltopdf_bin()] + self._build_wkhtmltopdf_args(
            report.get_paperformat(),
            self.env.context.get("landscape"),
            specific_paperformat_args=paperformat_args,
        )
        folder = tempfile.mkdtemp(prefix="debt_recovery.pdf.")
        files = {}
        for name, page in (("header", header), ("footer", footer)):
            if page:
                files[name] = os.path.join(folder, f"{name}.html")
                with open(files[name], "w", encoding="utf-8") as handle:
                    handle.write(page)
                command += [f"--{name}-html", files[name]]
        for index, body in enumerate(bodies):
            path = os.path.join(folder, f"body{index:04d}.html")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(body)
            command.append(path)
        command.append(os.path.join(folder, "out.pdf"))
        # Its messages to a file: a full pipe nobody reads would stall it.
        with open(os.path.join(folder, "err.txt"), "wb") as err:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)  # noqa: S603
        return PdfJob(process=process, folder=folder, res_ids=list(res_ids))

    def _debt_finish_pdf(self, job):
        """{res_id: PDF} of the finished ``job``, cut a document each."""
        try:
            code = job.process.wait()
            with open(os.path.join(job.folder, "err.txt"), "rb") as err:
                message = err.read().decode("utf-8", "replace")
            if code not in (0, 1):
                raise UserError(
                    self.env._(
                        "wkhtmltopdf failed (error code: %(code)s): %(message)s",
                        code=code,
                        message=message[-1000:],
                    )
                )
            with open(os.path.join(job.folder, "out.pdf"), "rb") as out:
                pdf = out.read()
        finally:
            shutil.rmtree(job.folder, ignore_errors=True)
        return self._debt_cut_pdf(pdf, job.res_ids)

    def _debt_cut_pdf(self, pdf, res_ids):
        """``pdf`` of the documents ``res_ids`` (in order), one PDF each: one
        page each, or cut where each document's top-level outline starts.
        Empty when the outlines do not say where each one starts."""
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        count = len(reader.pages)
        if count == len(res_ids):
            starts = list(range(count))
        else:
            starts = sorted(
                {
                    reader.get_destination_page_number(outline)
                    for outline in reader.outline
                    if not isinstance(outline, list)
                }
            )
            if len(starts) != len(res_ids) or starts[:1] != [0]:
                _logger.info("Recovery PDFs: %s documents not cut apart.", len(res_ids))
                return {}
        documents = {}
        for res_id, start, end in zip(res_ids, starts, [*starts[1:], count], strict=True):
            writer = PdfFileWriter()
            for number in range(start, end):
                writer.add_page(reader.pages[number])
            stream = io.BytesIO()
            writer.write(stream)
            documents[res_id] = stream.getvalue()
        return documents

    def _prepare_html(self, html, report_model=False):
        """Each page of this module's reports (each letter, and the header
        and footer) carries only the style rules it can use
        (``tools/css.py``), inline.

        wkhtmltopdf loads the header and footer again for every page, and
        each letter, each with Odoo's whole report style sheet (444 KB),
        fetched from the server: measured on 60 letters, 0.07 s of the
        0.12 s of wkhtmltopdf a letter cost. The pages look the same.
        """
        bodies, res_ids, header, footer, paperformat_args = super()._prepare_html(
            html, report_model=report_model
        )
        if self.report_name and self.report_name.startswith("debt_recovery."):
            header = self._debt_slim_styles(self._debt_one_for_all(header, "headers"))
            footer = self._debt_slim_styles(self._debt_one_for_all(footer, "footers"))
            bodies = [self._debt_slim_styles(body) for body in bodies]
        return bodies, res_ids, header, footer, paperformat_args

    def _debt_one_for_all(self, page, kind):
        """``page`` (the header or footer of a batch) with one copy of the
        header or footer when the documents' are all the same.

        Odoo's layout puts one header per document in the page, and a script
        picks the document's at each page: wkhtmltopdf loads that page again
        for every page, so a batch of n letters of one company costs n x n
        copies of the same letterhead (its logo inline each time). One copy,
        out of the container the script looks for, serves every page.
        """
        text = str(page)
        root = lxml.html.fromstring(text)
        box = root.get_element_by_id(f"minimal_layout_report_{kind}", None)
        copies = list(box) if box is not None else []
        if len(copies) < 2:
            return page
        first = lxml.html.tostring(copies[0], with_tail=False)
        if any(lxml.html.tostring(copy, with_tail=False) != first for copy in copies[1:]):
            return page
        box.getparent().replace(box, copies[0])
        return type(page)(lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"))

    def _debt_slim_styles(self, page):
        """``page`` with each asset style sheet replaced by its rules that
        may apply to the page, inline (no fetch from the server either)."""
        text = str(page)
        classes = page_classes(text)

        def inline(match):
            rules = self._debt_asset_rules(match.group(1))
            if rules is None:
                return match.group(0)
            return f"<style>{slim_css(rules, classes)}</style>"

        return type(page)(STYLESHEET_LINK.sub(inline, text)) if classes else page

    def _debt_asset_rules(self, url):
        """The rules of the asset style sheet at ``url`` (``parse_css``),
        generated now if no page asked for it yet; None when it cannot be
        (then the page keeps its link)."""
        # sudo: asset bundles are public attachments.
        Attachment = self.env["ir.attachment"].sudo()
        attachment = Attachment.search([("url", "=", url)], order="id desc", limit=1)
        if not attachment:
            match = ASSET_URL.fullmatch(url)
            if match:
                # As the server does when wkhtmltopdf asks for it.
                bundle = self.env["ir.qweb"]._get_asset_bundle(match["bundle"], js=False)
                attachment = bundle.css().filtered(lambda a: a.url == url)[:1]
        return self._debt_parsed_asset(attachment.id) if attachment else None

    @tools.ormcache("attachment_id")
    def _debt_parsed_asset(self, attachment_id):
        """The parsed rules of an asset bundle (its content never changes: a
        new version is a new attachment at a new URL)."""
        raw = self.env["ir.attachment"].sudo().browse(attachment_id).raw
        return parse_css(raw.decode("utf-8", "replace")) if raw else None
