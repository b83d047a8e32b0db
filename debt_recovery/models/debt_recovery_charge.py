from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date, formatLang

from .account_move import credit_hold_exempt


class DebtRecoveryCharge(models.Model):
    """Late-payment interest, compensation and level fees charged to a
    customer (a posted invoice), or waived: either way, the periods and
    sums it lists are never charged again."""

    _name = "debt.recovery.charge"
    _description = "Late-Payment Charge"
    _order = "date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(compute="_compute_name")
    case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Case",
        readonly=True,
        index=True,
        check_company=True,
        ondelete="set null",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(comodel_name="res.company", required=True, readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", required=True, readonly=True)
    date = fields.Date(required=True, readonly=True)
    state = fields.Selection(
        selection=[("posted", "Charged"), ("reversed", "Reversed"), ("waived", "Waived")],
        required=True,
        readonly=True,
    )
    move_id = fields.Many2one(
        comodel_name="account.move", string="Invoice", readonly=True, check_company=True
    )
    reversal_move_id = fields.Many2one(
        comodel_name="account.move", string="Credit Note", readonly=True, check_company=True
    )
    reason = fields.Text(readonly=True, help="Why it was waived or reversed.")
    user_id = fields.Many2one(
        comodel_name="res.users", string="By", readonly=True, default=lambda self: self.env.user
    )
    line_ids = fields.One2many(
        comodel_name="debt.recovery.charge.line", inverse_name="charge_id", readonly=True
    )
    amount_total = fields.Monetary(compute="_compute_amount_total", currency_field="currency_id")
    amount_paid_costs = fields.Monetary(
        string="Costs Paid",
        compute="_compute_amount_paid",
        currency_field="currency_id",
        help="What the customer paid of the invoice counts against its costs (fixed "
        "compensation, fees) first, then its interest (§ 367 BGB).",
    )
    amount_paid_interest = fields.Monetary(
        string="Interest Paid", compute="_compute_amount_paid", currency_field="currency_id"
    )

    # === COMPUTE METHODS === #
    @api.depends("move_id.name", "state", "date")
    def _compute_name(self):
        for charge in self:
            charge.name = charge.move_id.name or self.env._(
                "Waiver of %(date)s", date=format_date(self.env, charge.date)
            )

    @api.depends("line_ids.amount")
    def _compute_amount_total(self):
        for charge in self:
            charge.amount_total = sum(charge.line_ids.mapped("amount"))

    @api.depends("line_ids.amount", "line_ids.kind", "move_id.amount_residual", "state")
    def _compute_amount_paid(self):
        for charge in self:
            paid = 0.0
            if charge.state == "posted" and charge.move_id:
                paid = charge.move_id.amount_total - charge.move_id.amount_residual
            lines = charge.line_ids
            costs = sum(lines.filtered(lambda line: line.kind != "interest").mapped("amount"))
            charge.amount_paid_costs = min(paid, costs)
            charge.amount_paid_interest = paid - charge.amount_paid_costs

    # === BUSINESS METHODS === #
    @api.model
    def _debt_accrued_lines(self, case, today):
        """{currency: [charge line values]} of what ``case``'s customer owes
        in its company today and was neither charged nor waived: interest
        and compensation of its late invoices, fees of the levels sent."""
        Item = self.env["account.move.line"]
        customer = case.partner_id.commercial_partner_id
        items = Item.search(
            [
                ("partner_id", "child_of", customer.id),
                ("company_id", "=", case.company_id.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("move_id.move_type", "=", "out_invoice"),
                ("date_maturity", "<", today),
            ],
            order="date_maturity, id",
        )
        figures = items._debt_late_payment(today)
        lines = defaultdict(list)
        for item in items:
            figure = figures.get(item.id)
            if not figure:
                continue
            if not item.currency_id.is_zero(figure.interest):
                rates = " / ".join(
                    f"{formatLang(self.env, rate, digits=2)} %"
                    for _day, rate in figure.accrual.rates
                )
                lines[item.currency_id].append(
                    {
                        "item_id": item.id,
                        "kind": "interest",
                        "date_from": figure.accrual.date_from,
                        "date_to": figure.accrual.date_to,
                        "rate": rates,
                        "amount": figure.interest,
                    }
                )
            if not item.currency_id.is_zero(figure.compensation):
                lines[item.currency_id].append(
                    {"item_id": item.id, "kind": "compensation", "amount": figure.compensation}
                )
        charged = self.env["debt.recovery.charge.line"].search(
            [("communication_id.partner_id", "=", customer.id), ("kind", "=", "fee")]
        )
        communications = self.env["debt.recovery.communication"].search(
            [
                ("partner_id", "=", customer.id),
                ("company_id", "=", case.company_id.id),
                ("state", "=", "sent"),
                "|",
                ("level_id.fee_amount", ">", 0),
                ("level_id.fee_percent", ">", 0),
                ("id", "not in", charged.communication_id.ids),
            ]
        )
        for comm in communications:
            fee = comm._level_fee()
            if not comm.company_id.currency_id.is_zero(fee):
                lines[comm.company_id.currency_id].append(
                    {"communication_id": comm.id, "kind": "fee", "amount": fee}
                )
        # Recoverable legal costs, each charged (or waived) once.
        costs = self.env["debt.recovery.legal.cost"].search(
            [
                ("legal_action_id.case_id", "=", case.id),
                ("recoverable", "=", True),
                ("charge_line_ids", "=", False),
            ],
            order="date, id",
        )
        for cost in costs:
            if not cost.currency_id.is_zero(cost.amount):
                lines[cost.currency_id].append(
                    {"legal_cost_id": cost.id, "kind": "legal_cost", "amount": cost.amount}
                )
        return lines

    @api.model
    def _debt_charge_case(self, case):
        """Posts one invoice a currency of what ``case``'s customer owes in
        interest, compensation and fees since it was last charged."""
        today = fields.Date.context_today(self)
        accrued = self._debt_accrued_lines(case, today)
        if not accrued:
            raise UserError(
                self.env._(
                    "Nothing has accrued on %(customer)s since the last charge: there is "
                    "nothing to charge.",
                    customer=case.partner_id.display_name,
                )
            )
        company = case.company_id
        Move = self.env["account.move"].sudo().with_company(company)
        journal, accounts = company._debt_charge_accounts()
        # Odoo would move the invoice past a lock date without a word: the
        # interest of today is not charged into another period.
        violated = company._get_violated_lock_dates(today, False, journal)
        if violated:
            raise UserError(
                self.env._(
                    "Interest and costs cannot be charged today: the period is locked "
                    "(%(locks)s). Nothing was charged.",
                    locks=self.env["res.company"]._format_lock_dates(violated),
                )
            )
        charges = self.browse()
        for currency, values in accrued.items():
            invoice = Move.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": case.partner_id.id,
                    "journal_id": journal.id,
                    "currency_id": currency.id,
                    "invoice_date": today,
                    "invoice_date_due": today,
                    "invoice_payment_term_id": False,
                    "invoice_origin": case.name,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": self._debt_label(vals),
                                "quantity": 1.0,
                                "price_unit": vals["amount"],
                                "account_id": accounts[vals["kind"]].id,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for vals in values
                    ],
                }
            )
            # Part of a debt the customer already owes: no new credit.
            with credit_hold_exempt():
                invoice.action_post()
            charges |= self.create(
                {
                    "case_id": case.id,
                    "partner_id": case.partner_id.id,
                    "company_id": company.id,
                    "currency_id": currency.id,
                    "date": today,
                    "state": "posted",
                    "move_id": invoice.id,
                    "line_ids": [Command.create(vals) for vals in values],
                }
            )
            case.message_post(
                body=self.env._(
                    "Interest and costs charged: invoice %(invoice)s, %(amount)s.",
                    invoice=invoice.name,
                    amount=format_amount(self.env, invoice.amount_total, currency),
                )
            )
        return charges

    @api.model
    def _debt_waive_case(self, case, reason):
        """Waives what ``case``'s customer owes today in interest,
        compensation and fees: recorded, logged, never charged later."""
        if not (reason or "").strip():
            raise UserError(self.env._("Say why the interest and costs are waived."))
        today = fields.Date.context_today(self)
        accrued = self._debt_accrued_lines(case, today)
        if not accrued:
            raise UserError(
                self.env._("Nothing has accrued since the last charge: there is nothing to waive.")
            )
        waivers = self.create(
            [
                {
                    "case_id": case.id,
                    "partner_id": case.partner_id.id,
                    "company_id": case.company_id.id,
                    "currency_id": currency.id,
                    "date": today,
                    "state": "waived",
                    "reason": reason,
                    "line_ids": [Command.create(vals) for vals in values],
                }
                for currency, values in accrued.items()
            ]
        )
        case.message_post(
            body=self.env._(
                "Interest and costs waived by %(user)s (%(amount)s): %(reason)s",
                user=self.env.user.name,
                amount=", ".join(
                    format_amount(self.env, waiver.amount_total, waiver.currency_id)
                    for waiver in waivers
                ),
                reason=reason,
            )
        )
        return waivers

    def action_open_reverse(self):
        """The case's waive-or-reverse dialog, with this charge chosen."""
        self.ensure_one()
        action = self.case_id.action_open_charge_waive()
        action["context"] = {**action["context"], "default_charge_id": self.id}
        action["name"] = self.env._("Reverse a Charge")
        return action

    def action_reverse(self, reason=None):
        """A credit note cancels a charge's invoice; its periods stay
        consumed (charging again would charge them twice)."""
        for charge in self:
            if charge.state != "posted":
                raise UserError(self.env._("Only a charged invoice can be reversed."))
            if not (reason or "").strip():
                raise UserError(self.env._("Say why the charge is reversed."))
            refund = charge.move_id.sudo()._reverse_moves(
                [{"invoice_date": fields.Date.context_today(self), "ref": reason}], cancel=True
            )
            charge.write({"state": "reversed", "reversal_move_id": refund.id, "reason": reason})
            if charge.case_id:
                charge.case_id.message_post(
                    body=self.env._(
                        "Charge %(invoice)s reversed by the credit note %(refund)s: %(reason)s",
                        invoice=charge.move_id.name,
                        refund=refund.name,
                        reason=reason,
                    )
                )
        return True

    @api.model
    def _debt_label(self, vals):
        item = self.env["account.move.line"].browse(vals.get("item_id"))
        if vals["kind"] == "interest":
            return self.env._(
                "Late-payment interest on %(invoice)s from %(start)s to %(end)s at %(rate)s",
                invoice=item.move_id.name,
                start=format_date(self.env, vals["date_from"]),
                end=format_date(self.env, vals["date_to"]),
                rate=vals["rate"],
            )
        if vals["kind"] == "compensation":
            return self.env._(
                "Fixed compensation for recovery costs, %(invoice)s", invoice=item.move_id.name
            )
        if vals["kind"] == "legal_cost":
            cost = self.env["debt.recovery.legal.cost"].browse(vals["legal_cost_id"])
            return self.env._(
                "Legal costs: %(kind)s, %(bill)s (%(action)s)",
                kind=dict(cost._fields["kind"]._description_selection(self.env))[cost.kind],
                bill=cost.move_id.ref or cost.move_id.name,
                action=cost.legal_action_id.reference or cost.legal_action_id.display_name,
            )
        comm = self.env["debt.recovery.communication"].browse(vals["communication_id"])
        return self.env._(
            "Fee: %(level)s of %(date)s",
            level=comm.level_id.name,
            date=format_date(self.env, comm.date_sent or comm.date),
        )
