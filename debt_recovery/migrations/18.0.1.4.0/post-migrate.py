"""The escalation becomes its own model and paces its communications.

- The daily escalation cron now calls ``debt.recovery.escalation``.
- "Climb one level at a time" gives way to the policy's escalation mode:
  every policy is paced (first reminder first, one level up per
  communication), the new default; a policy that went straight to the level
  of the age keeps doing so only if it is set to that mode again. Odoo keeps
  columns a model no longer declares: the old one is dropped here.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("debt_recovery.ir_cron_debt_recovery_escalate", raise_if_not_found=False)
    model = env["ir.model"]._get("debt.recovery.escalation")
    if cron and model:
        cron.write({"model_id": model.id, "code": "model._cron_escalate()"})
    cr.execute("ALTER TABLE debt_recovery_policy DROP COLUMN IF EXISTS climb_one_level")
