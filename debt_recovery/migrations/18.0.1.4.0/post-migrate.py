"""The escalation becomes its own model and paces its communications.

- The daily escalation cron now calls ``debt.recovery.escalation``.
- "Climb one level at a time" gives way to the policy's escalation mode:
  every policy is paced (first reminder first, one level up per
  communication), the new default; a policy that went straight to the level
  of the age keeps doing so only if it is set to that mode again. Odoo keeps
  columns a model no longer declares: the old one is dropped here.
- The shipped firm reminder's wording no longer speaks of a previous reminder.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("debt_recovery.ir_cron_debt_recovery_escalate", raise_if_not_found=False)
    model = env["ir.model"]._get("debt.recovery.escalation")
    if cron and model:
        cron.write({"model_id": model.id, "code": "model._cron_escalate()"})
    cr.execute("ALTER TABLE debt_recovery_policy DROP COLUMN IF EXISTS climb_one_level")
    _update_firm_wording(env)


OLD_FIRM_BODY = "Despite our previous reminder, the invoices below remain unpaid."


def _update_firm_wording(env):
    """The shipped firm reminder said "Despite our previous reminder" whether
    or not one was sent (letters now name the earlier reminders really sent,
    with their dates). The level is ``noupdate``: its wording is replaced here
    only where it is still the shipped one."""
    level = env.ref("debt_recovery.level_firm", raise_if_not_found=False)
    if not level or OLD_FIRM_BODY not in (level.with_context(lang="en_US").letter_body or ""):
        return
    level.with_context(lang="en_US").write(
        {
            "letter_title": "Overdue invoices: payment within 7 days",
            "letter_body": "<p>The invoices listed below as past their due date remain unpaid. "
            "Please pay the net amount due within 7 days, or contact us if there is a "
            "problem with these invoices.</p>",
        }
    )
