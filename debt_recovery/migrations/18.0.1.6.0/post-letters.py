"""Letters give a payment deadline as a date and state the law.

The shipped levels are ``noupdate``: their new settings (payment deadline in
days, statutory notice) are set here, and their wording, which spoke of
"within 7 days" and of "the applicable law", is replaced only where it is
still the shipped one. The other languages of a replaced text are reloaded
from the module's translations. The shipped reminder email gains the
deadline sentence the same way.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

LEVELS = {
    "level_friendly": {"payment_days": 14},
    "level_firm": {"payment_days": 10},
    "level_formal_notice": {"payment_days": 8, "legal_notice": True},
    "level_final_demand": {"payment_days": 7, "legal_notice": True},
}

WORDING = {
    "level_firm": (
        "Please pay the net amount due within 7 days",
        {
            "letter_title": "Overdue invoices: payment requested",
            "letter_body": "<p>The invoices listed below as past their due date remain unpaid. "
            "Please pay the net amount due by the date given in this letter, or contact us "
            "without delay if there is a problem with these invoices.</p>",
        },
    ),
    "level_formal_notice": (
        "under the applicable law on late payment",
        {
            "letter_body": "<p>The invoices listed below as past their due date are seriously "
            "overdue. By this letter we formally give you notice of default and demand payment "
            "of the net amount due.</p>",
        },
    ),
    "level_final_demand": (
        "paid within 7 days of the date of this letter",
        {
            "letter_body": "<p>This is our final demand. Unless the net amount due below is paid "
            "by the date given in this letter, we will hand the matter to a collection agency "
            "or start legal proceedings without further notice, which may add interest and "
            "costs to the amount you owe.</p>",
        },
    ),
}

OLD_EMAIL_END = "<p>If you have already paid, please ignore this message.</p>"
NEW_EMAIL_END = (
    '<p t-if="object.date_deadline">Please pay the net amount due by '
    "<strong t-out=\"format_date(object.date_deadline) or ''\">01/01/2026</strong> "
    "at the latest.</p>\n    " + OLD_EMAIL_END
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
    for xmlid, values in LEVELS.items():
        level = env.ref(f"debt_recovery.{xmlid}", raise_if_not_found=False)
        if level:
            level.write(values)
    for xmlid, (shipped, values) in WORDING.items():
        level = env.ref(f"debt_recovery.{xmlid}", raise_if_not_found=False)
        if level and shipped in (level.letter_body or ""):
            _replace_translated(level, values)
    template = env.ref("debt_recovery.mail_template_recovery_reminder", raise_if_not_found=False)
    body = template and template.body_html or ""
    if OLD_EMAIL_END in body and "date_deadline" not in body:
        _replace_translated(template, {"body_html": body.replace(OLD_EMAIL_END, NEW_EMAIL_END)})
    langs = [code for code, _name in env["res.lang"].get_installed() if code != "en_US"]
    if langs:
        # Fills the languages dropped above from the module's .po files;
        # translations of other records are left as they are.
        env["ir.module.module"]._load_module_terms(["debt_recovery"], langs, overwrite=False)


def _replace_translated(record, values):
    """Writes the English ``values`` and drops the other languages' old
    versions, so that the module's translations load for them again."""
    record.write(values)
    for fname in values:
        column = SQL.identifier(fname)
        record.env.cr.execute(
            SQL(
                "UPDATE %s SET %s = jsonb_build_object('en_US', %s->'en_US') WHERE id = %s",
                SQL.identifier(record._table),
                column,
                column,
                record.id,
            )
        )
    record.invalidate_recordset(list(values))
