"""OCA account_credit_control, configured like our benchmark ladder.

Used by bench/measure.py on a copy of the benchmark database where the OCA
module is installed (``pip install --no-deps`` of its wheel from PyPI).
"""

from odoo import Command


def setup(env, ladder):
    """One policy per company with the same delays, the company's default.

    OCA levels escalate one at a time, each from the previous level's line
    once it is no longer a draft: "net days" after the due date, as ours.
    """
    template = env.ref("account_credit_control.email_template_credit_control_base")
    policies = 0
    for company in env["res.company"].search([]):
        receivables = env["account.account"].search(
            [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.ids)]
        )
        policy = env["credit.control.policy"].create(
            {
                "name": f"Bench ladder ({company.name})",
                "company_id": company.id,
                "account_ids": [Command.set(receivables.ids)],
                "level_ids": [
                    Command.create(
                        {
                            "name": f"Level {index}",
                            "level": index,
                            "computation_mode": "net_days",
                            "delay_days": days,
                            "channel": "email",
                            "email_template_id": template.id,
                            "custom_text": f"Reminder {index}",
                            "custom_mail_text": f"<p>Reminder {index}</p>",
                        }
                    )
                    for index, days in enumerate(ladder, start=1)
                ],
            }
        )
        company.credit_policy_id = policy
        policies += 1
    env.cr.commit()
    return {"policies": policies}


def run(env, day):
    """A credit control run for every company on ``day``: its lines generated."""
    runs = env["credit.control.run"]
    for company in env["res.company"].search([]):
        credit_run = (
            env["credit.control.run"]
            .with_company(company)
            .create(
                {
                    "date": day,
                    "company_id": company.id,
                    "policy_ids": [Command.set(company.credit_policy_id.ids)],
                }
            )
        )
        credit_run.generate_credit_lines()
        runs |= credit_run
    return runs


def mark_ready(runs):
    """What the user does next ("Ready To Send"): the lines count as sent levels."""
    for credit_run in runs:
        credit_run.set_to_ready_lines()
