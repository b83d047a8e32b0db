from odoo import api, fields, models

AGEING = (0, 30, 60, 90)  # upper bounds (days overdue) of the first four buckets


class ReportStatementOfAccount(models.AbstractModel):
    """The statement of account of a customer: its open items in the current
    company, per currency, with ageing buckets."""

    _name = "report.debt_recovery.report_statement_of_account"
    _description = "Statement of Account"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            # In the customer's language, as the template renders each one.
            "statements": {
                partner.id: self.with_context(
                    lang=partner.lang or self.env.lang
                )._get_statement_data(partner.commercial_partner_id)
                for partner in partners
            },
        }

    @api.model
    def _get_statement_data(self, partner):
        """What the statement of ``partner`` (a commercial partner) prints:
        {"date": today, "currencies": [{"currency", "items", "balance",
        "disputed", "ageing": [(bucket name, amount)]}]}, amounts in each
        item's currency. Credit notes and unapplied payments are items with a
        negative balance: the balance is net of them."""
        today = fields.Date.context_today(self)
        AccountMoveLine = self.env["account.move.line"]
        lines = AccountMoveLine.search(
            [
                ("partner_id", "child_of", partner.commercial_partner_id.id),
                ("company_id", "=", self.env.company.id),
                *AccountMoveLine._debt_open_domain(),
            ],
            order="date_maturity, id",
        )
        bucket_names = [
            self.env._("Not due"),
            self.env._("1-30 days"),
            self.env._("31-60 days"),
            self.env._("61-90 days"),
            self.env._("Over 90 days"),
        ]
        blocks = {}
        for line in lines:
            block = blocks.setdefault(
                line.currency_id,
                {
                    "currency": line.currency_id,
                    "items": [],
                    "balance": 0.0,
                    "disputed": 0.0,
                    "ageing": [0.0] * len(bucket_names),
                },
            )
            due = line.date_maturity or line.date
            days = (today - due).days if due < today else 0
            balance = line.amount_residual_currency
            disputed = bool(line.debt_dispute_id)
            if disputed:
                block["disputed"] += balance
            block["items"].append(
                {
                    "date": line.date,
                    "reference": line.move_id.name,
                    "date_maturity": due,
                    "days_overdue": days,
                    "amount": line.amount_currency,
                    "paid": line.amount_currency - balance,
                    "balance": balance,
                    "disputed": disputed,
                }
            )
            block["balance"] += balance
            index = next((i for i, bound in enumerate(AGEING) if days <= bound), len(AGEING))
            block["ageing"][index] += balance
        currencies = sorted(blocks.values(), key=lambda b: b["currency"].name)
        for block in currencies:
            block["ageing"] = list(zip(bucket_names, block["ageing"], strict=True))
        return {"date": today, "currencies": currencies}
