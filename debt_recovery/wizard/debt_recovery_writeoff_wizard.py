from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

MANAGER_GROUP = "debt_recovery.group_debt_recovery_manager"


class DebtRecoveryWriteoffWizard(models.TransientModel):
    """A recovery manager writes off debt, all of it or part of each item,
    from a case, from the board's list (several cases) or from a list of
    journal items: one write-off a customer, company and currency."""

    _name = "debt.recovery.writeoff.wizard"
    _description = "Write Off Debt"

    # === FIELDS === #
    case_ids = fields.Many2many(comodel_name="debt.recovery.case", string="Cases")
    move_line_ids = fields.Many2many(comodel_name="account.move.line", string="Journal Items")
    line_ids = fields.One2many(
        comodel_name="debt.recovery.writeoff.wizard.line",
        inverse_name="wizard_id",
        string="Items to Write Off",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    reason_id = fields.Many2one(
        comodel_name="debt.recovery.writeoff.reason", string="Reason", required=True
    )
    note = fields.Text()
    date = fields.Date(string="Accounting Date", required=True, default=fields.Date.context_today)
    company_id = fields.Many2one(comodel_name="res.company", compute="_compute_approval")
    company_currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total_company = fields.Monetary(
        string="Total (Company Currency)",
        compute="_compute_approval",
        currency_field="company_currency_id",
    )
    approval_amount = fields.Monetary(
        related="company_id.debt_writeoff_approval_amount", currency_field="company_currency_id"
    )
    needs_approval = fields.Boolean(compute="_compute_approval")

    # === COMPUTE METHODS === #
    @api.depends("case_ids", "move_line_ids")
    def _compute_line_ids(self):
        Item = self.env["account.move.line"]
        for wizard in self:
            if wizard.move_line_ids:
                items = wizard.move_line_ids.filtered(
                    lambda line: line.account_type == "asset_receivable"
                    and not line.reconciled
                    and line.amount_residual_currency > 0
                )
            elif wizard.case_ids:
                items = Item.search(
                    [*wizard.case_ids._origin._overdue_domain()], order="date_maturity, id"
                )
            else:
                items = Item
            wizard.line_ids = [Command.clear()] + [
                Command.create({"move_line_id": item.id, "amount": item.amount_residual_currency})
                for item in items
            ]

    @api.depends("line_ids.amount", "line_ids.move_line_id", "date")
    def _compute_approval(self):
        for wizard in self:
            company = wizard.line_ids.move_line_id.company_id[:1] or self.env.company
            date = wizard.date or fields.Date.context_today(wizard)
            wizard.company_id = company
            wizard.amount_total_company = sum(
                line.currency_id._convert(line.amount, company.currency_id, company, date)
                for line in wizard.line_ids.filtered("move_line_id")
            )
            # Each write-off (customer, company, currency) is compared with
            # the customer's others of the last days and of this run (see
            # debt.recovery.writeoff._debt_needs_approval): this says whether
            # one of them at least needs approval.
            Writeoff = self.env["debt.recovery.writeoff"]
            needs_approval = False
            pending = defaultdict(float)
            groups = wizard.line_ids.filtered("move_line_id").grouped(
                lambda line: (
                    line.move_line_id.partner_id.commercial_partner_id,
                    line.move_line_id.company_id,
                    line.currency_id,
                )
            )
            for (customer, line_company, _currency), group in groups.items():
                limit = line_company.debt_writeoff_approval_amount
                pending[customer, line_company] += sum(
                    line.currency_id._convert(
                        line.amount, line_company.currency_id, line_company, date
                    )
                    for line in group
                )
                if limit > 0 and not needs_approval:
                    total = pending[customer, line_company] + Writeoff._debt_recent_written_off(
                        customer, line_company, date
                    )
                    needs_approval = line_company.currency_id.compare_amounts(total, limit) > 0
            wizard.needs_approval = needs_approval

    # === ACTION METHODS === #
    def action_confirm(self):
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(self.env._("Only a recovery manager can write off debt."))
        lines = self.line_ids.filtered("move_line_id")
        if not lines:
            raise UserError(self.env._("Choose the items to write off."))
        groups = defaultdict(lambda: self.env["debt.recovery.writeoff.wizard.line"])
        for line in lines:
            item = line.move_line_id
            key = (item.partner_id.commercial_partner_id, item.company_id, item.currency_id)
            groups[key] |= line
        Case = self.env["debt.recovery.case"]
        cases = Case.search(
            [
                ("partner_id", "in", [key[0].id for key in groups]),
                ("is_closed", "=", False),
            ]
        )
        case_of = {(case.partner_id, case.company_id): case for case in cases}
        # A refusal (an amount, a locked period) leaves no write-off behind,
        # whoever calls.
        with self.env.cr.savepoint():
            writeoffs = self.env["debt.recovery.writeoff"].create(
                [
                    {
                        "case_id": case_of.get((customer, company), Case).id,
                        "partner_id": customer.id,
                        "company_id": company.id,
                        "currency_id": currency.id,
                        "date": self.date,
                        "reason_id": self.reason_id.id,
                        "note": self.note,
                        "line_ids": [
                            Command.create(
                                {"move_line_id": line.move_line_id.id, "amount": line.amount}
                            )
                            for line in group
                        ],
                    }
                    for (customer, company, currency), group in groups.items()
                ]
            )
            writeoffs._debt_submit()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "debt_recovery.debt_recovery_writeoff_action"
        )
        action["domain"] = [("id", "in", writeoffs.ids)]
        if len(writeoffs) == 1:
            action.update({"res_id": writeoffs.id, "views": [(False, "form")]})
        return action


class DebtRecoveryWriteoffWizardLine(models.TransientModel):
    _name = "debt.recovery.writeoff.wizard.line"
    _description = "Item to Write Off"

    wizard_id = fields.Many2one(
        comodel_name="debt.recovery.writeoff.wizard", required=True, ondelete="cascade"
    )
    move_line_id = fields.Many2one(comodel_name="account.move.line", string="Item", required=True)
    partner_id = fields.Many2one(related="move_line_id.partner_id", string="Customer")
    invoice_id = fields.Many2one(related="move_line_id.move_id", string="Invoice")
    date_maturity = fields.Date(related="move_line_id.date_maturity", string="Due Date")
    currency_id = fields.Many2one(related="move_line_id.currency_id")
    amount_residual = fields.Monetary(
        related="move_line_id.amount_residual_currency", string="Open", currency_field="currency_id"
    )
    amount = fields.Monetary(string="To Write Off", required=True, currency_field="currency_id")
