import re

from odoo import models, tools

from ..tools.css import page_classes, parse_css, slim_css

STYLESHEET_LINK = re.compile(
    r"""<link\b[^>]*?\bhref=["'](/web/assets/[^"']+\.css)["'][^>]*>""", re.IGNORECASE
)


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

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
            header, footer = self._debt_slim_styles(header), self._debt_slim_styles(footer)
            bodies = [self._debt_slim_styles(body) for body in bodies]
        return bodies, res_ids, header, footer, paperformat_args

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
        """The rules of the asset style sheet at ``url`` (``parse_css``), or
        None when it is not generated yet (then the page keeps its link)."""
        # sudo: asset bundles are public attachments.
        attachment = (
            self.env["ir.attachment"].sudo().search([("url", "=", url)], order="id desc", limit=1)
        )
        return self._debt_parsed_asset(attachment.id) if attachment else None

    @tools.ormcache("attachment_id")
    def _debt_parsed_asset(self, attachment_id):
        """The parsed rules of an asset bundle (its content never changes: a
        new version is a new attachment at a new URL)."""
        raw = self.env["ir.attachment"].sudo().browse(attachment_id).raw
        return parse_css(raw.decode("utf-8", "replace")) if raw else None
