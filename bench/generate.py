"""Build a benchmark database through the real ORM and accounting.

Usage (from scripts/bench.sh, which sets up Odoo and the paths):
    python bench/generate.py SIZE DBNAME [--seed N]

Deterministic from the seed: customers, posted invoices (some with instalment
payment terms, some in a second currency), credit notes, full and partial
payments reconciled in batches. Invoices are created and posted in batches
with the recovery hooks off (the daily cron opens the cases afterwards).
"""

import argparse
import random
import time
from datetime import date, timedelta

SIZES = {
    "small": {"customers": 250, "invoices": 1_000},
    "medium": {"customers": 4_000, "invoices": 20_000},
    "large": {"customers": 20_000, "invoices": 100_000},
}
BATCH = 1_000
QUIET = {
    "debt_recovery_skip_sync": True,
    "debt_recovery_skip_hold": True,
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


def analyze(env):
    env.flush_all()
    env.cr.execute("ANALYZE account_move, account_move_line, account_partial_reconcile")


def build(env, size, seed, today):
    from odoo import Command

    rng = random.Random(seed)
    spec = SIZES[size]
    env = env(context=dict(env.context, **QUIET))
    company = env.ref("base.main_company")
    eur = env.ref("base.EUR")
    eur.active = True
    env["res.currency.rate"].create(
        {
            "currency_id": eur.id,
            "name": today - timedelta(days=800),
            "rate": 0.92,
            "company_id": company.id,
        }
    )
    term = env["account.payment.term"].create(
        {
            "name": "Bench 3 instalments",
            "line_ids": [
                Command.create({"value": "percent", "value_amount": 40.0, "nb_days": 30}),
                Command.create({"value": "percent", "value_amount": 30.0, "nb_days": 60}),
                Command.create({"value": "percent", "value_amount": 30.0, "nb_days": 90}),
            ],
        }
    )
    partners = env["res.partner"].create(
        [
            {
                "name": f"Bench Customer {i:06d}",
                "is_company": True,
                "email": f"ap{i}@bench.example.com",
            }
            for i in range(spec["customers"])
        ]
    )
    journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )
    bank = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
    started = time.time()
    invoices = env["account.move"]
    for start in range(0, spec["invoices"], BATCH):
        vals = []
        for _n in range(start, min(start + BATCH, spec["invoices"])):
            partner = partners[rng.randrange(len(partners))]
            invoice_date = today - timedelta(days=rng.randrange(5, 400))
            instalments = rng.random() < 0.15
            vals.append(
                {
                    "move_type": "out_refund" if rng.random() < 0.03 else "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": False
                    if instalments
                    else invoice_date + timedelta(days=rng.choice((0, 15, 30, 45))),
                    "invoice_payment_term_id": term.id if instalments else False,
                    "currency_id": (eur if rng.random() < 0.2 else company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Goods",
                                "quantity": 1,
                                "price_unit": round(rng.uniform(50, 5000), 2),
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        batch = env["account.move"].create(vals)
        analyze(env)
        batch._post(soft=False)
        invoices |= batch
        env.cr.commit()
        print(f"  invoices {len(invoices)} ({time.time() - started:.0f}s)", flush=True)
    analyze(env)
    # Payments: 60% paid in full, 10% in part; reconciled in batches.
    to_pay = invoices.filtered(lambda m: m.move_type == "out_invoice")
    paid = [m for m in to_pay if rng.random() < 0.7]
    for start in range(0, len(paid), BATCH):
        chunk = paid[start : start + BATCH]
        payments = env["account.payment"].create(
            [
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": move.commercial_partner_id.id,
                    "amount": move.amount_residual * (1 if rng.random() < 0.85 else 0.5),
                    "currency_id": move.currency_id.id,
                    "journal_id": bank.id,
                    "date": min(
                        today, move.invoice_date_due + timedelta(days=rng.randrange(-10, 60))
                    ),
                }
                for move in chunk
            ]
        )
        payments.action_post()
        plan = []
        for move, payment in zip(chunk, payments, strict=True):
            lines = (move.line_ids | payment.move_id.line_ids).filtered(
                lambda line: line.account_type == "asset_receivable" and not line.reconciled
            )
            plan.append(lines)
        env["account.move.line"]._reconcile_plan(plan)
        analyze(env)
        env.cr.commit()
        print(f"  payments {start + len(chunk)} ({time.time() - started:.0f}s)", flush=True)
    env["debt.recovery.policy"]._get_company_defaults(company)
    env.cr.commit()
    return time.time() - started


def main():
    import odoo
    from odoo import SUPERUSER_ID, api, fields

    parser = argparse.ArgumentParser()
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("db")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--addons-path", required=True)
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["--db_host=", f"--addons-path={args.addons_path}", "-d", args.db]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        today = fields.Date.today()
        seconds = build(env, args.size, args.seed, date.fromordinal(today.toordinal()))
        print(f"built {args.size} in {seconds:.0f}s")


if __name__ == "__main__":
    main()
