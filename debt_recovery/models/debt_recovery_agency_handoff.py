import csv
import io
import json
import re
import zipfile

from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount, format_date

from .debt_recovery_stage import RECORD_HOLD_FIELDS
from .debt_recovery_workflow_mixin import workflow_step

# The columns of the machine-readable case file, one row a record: the
# debtor, its addresses, each item, the totals, each contact, promise, plan
# and dispute (``record_type`` says which).
CASE_FILE_COLUMNS = (
    "record_type",
    "reference",
    "date",
    "due_date",
    "name",
    "detail",
    "channel",
    "state",
    "amount",
    "amount_open",
    "interest",
    "costs",
    "currency",
)
CASE_FILE_FORMAT = "debt_recovery.agency_case_file"


class DebtRecoveryAgencyHandoff(models.Model):
    """Items of a case handed to a collection agency: our escalation leaves
    them alone while the agency works on them (``debt_agency_handoff_id`` on
    the items), the agency gets the case file, reports what it achieves and
    collects, and earns its commission (draft vendor bills)."""

    _name = "debt.recovery.agency.handoff"
    _description = "Collection Agency Hand-Off"
    _inherit = ["mail.thread", "mail.activity.mixin", "debt.recovery.pause.mixin"]
    _order = "date desc, id desc"
    _debt_pause_kind = "agency"
    # What was handed, to whom, when and by whom is set as the hand-off is made
    # (_debt_create_handoffs, the hand-off wizard) and never changes after: the
    # items it holds, the commission terms and the paused days follow from it.
    _debt_workflow_fields = (
        "move_line_ids",
        "writeoff_ids",
        "case_id",
        "partner_id",
        "company_id",
        "agency_id",
        "currency_id",
        "date",
        "user_id",
        "state",
        "date_closed",
        "amount_handed",
        "amount_handed_company",
        "case_file_pdf_id",
        "case_file_csv_id",
        "case_file_json_id",
        "case_file_zip_id",
        "letter_attachment_id",
    )

    # === FIELDS === #
    partner_id = fields.Many2one(required=True, domain="[('parent_id', '=', False)]")
    case_id = fields.Many2one(
        comodel_name="debt.recovery.case",
        string="Case",
        required=True,
        index=True,
        readonly=True,
        check_company=True,
        ondelete="restrict",
    )
    agency_id = fields.Many2one(
        comodel_name="debt.recovery.agency",
        string="Agency",
        required=True,
        index=True,
        readonly=True,
        tracking=True,
        check_company=True,
        ondelete="restrict",
    )
    agency_partner_id = fields.Many2one(related="agency_id.partner_id", string="Agency Partner")
    collects = fields.Selection(related="agency_id.collects")
    move_line_ids = fields.Many2many(
        comodel_name="account.move.line",
        relation="debt_recovery_agency_handoff_move_line_rel",
        string="Items Handed",
        readonly=True,
        check_company=True,
    )
    writeoff_ids = fields.Many2many(
        comodel_name="debt.recovery.writeoff",
        relation="debt_recovery_agency_handoff_writeoff_rel",
        string="Written-Off Debt Handed",
        readonly=True,
        check_company=True,
        help="Debt written off that the agency still pursues: what it collects is booked "
        "as recovered (bad debt recovered).",
    )
    currency_id = fields.Many2one(comodel_name="res.currency", required=True, readonly=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount_handed = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        help="What the items handed owed when they were handed.",
    )
    amount_handed_company = fields.Monetary(
        string="Handed (Company Currency)", currency_field="company_currency_id", readonly=True
    )
    report_ids = fields.One2many(
        comodel_name="debt.recovery.agency.report",
        inverse_name="handoff_id",
        string="Agency Reports",
        readonly=True,
    )
    amount_collected = fields.Monetary(
        compute="_compute_amounts", store=True, currency_field="currency_id"
    )
    amount_collected_company = fields.Monetary(
        string="Collected (Company Currency)",
        compute="_compute_amounts",
        store=True,
        currency_field="company_currency_id",
    )
    amount_commission = fields.Monetary(
        string="Commission",
        compute="_compute_amounts",
        store=True,
        currency_field="currency_id",
        help="Commission and fee billed by the agency on this hand-off.",
    )
    amount_commission_company = fields.Monetary(
        string="Commission (Company Currency)",
        compute="_compute_amounts",
        store=True,
        currency_field="company_currency_id",
    )
    amount_remaining = fields.Monetary(
        string="Still With the Agency",
        compute="_compute_amounts",
        store=True,
        currency_field="currency_id",
        help="What was handed and the agency has not reported collected.",
    )
    fee_billed = fields.Boolean(compute="_compute_amounts", store=True)
    bill_ids = fields.Many2many(
        comodel_name="account.move", string="Commission Bills", compute="_compute_moves"
    )
    bill_count = fields.Integer(compute="_compute_moves")
    collection_move_ids = fields.Many2many(
        comodel_name="account.move", string="Collection Entries", compute="_compute_moves"
    )
    state = fields.Selection(
        selection=[("active", "With the Agency"), ("recalled", "Recalled"), ("closed", "Closed")],
        default="active",
        required=True,
        tracking=True,
        index=True,
    )
    date = fields.Date(
        string="Handed On", required=True, default=fields.Date.context_today, readonly=True
    )
    date_closed = fields.Date(string="Ended On", readonly=True, tracking=True)
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Handed By",
        default=lambda self: self.env.user,
        readonly=True,
    )
    note = fields.Text()
    case_file_pdf_id = fields.Many2one(
        comodel_name="ir.attachment", string="Case File (PDF)", readonly=True, copy=False
    )
    case_file_csv_id = fields.Many2one(
        comodel_name="ir.attachment", string="Case File (CSV)", readonly=True, copy=False
    )
    case_file_json_id = fields.Many2one(
        comodel_name="ir.attachment", string="Case File (JSON)", readonly=True, copy=False
    )
    case_file_zip_id = fields.Many2one(
        comodel_name="ir.attachment",
        string="Case File with Letters (ZIP)",
        readonly=True,
        copy=False,
        help="The case file (PDF, CSV, JSON) and, in its letters folder, each reminder, "
        "notice and letter we sent the customer, as it was sent (the documents kept).",
    )
    letter_attachment_id = fields.Many2one(
        comodel_name="ir.attachment",
        string="Announcement Letter",
        readonly=True,
        copy=False,
        help="The letter that told the customer of the hand-off, as it was sent.",
    )

    # === COMPUTE METHODS === #
    @api.depends("agency_id", "case_id")
    def _compute_name(self):
        for handoff in self:
            handoff.name = f"{handoff.agency_id.name or ''} - {handoff.case_id.name or ''}"

    @api.depends(
        "amount_handed",
        "report_ids.kind",
        "report_ids.amount",
        "report_ids.amount_company",
        "report_ids.commission_amount",
        "report_ids.commission_company",
        "report_ids.fee_amount",
    )
    def _compute_amounts(self):
        for handoff in self:
            collected = handoff.report_ids.filtered(lambda r: r.kind == "collected")
            handoff.amount_collected = sum(collected.mapped("amount"))
            handoff.amount_collected_company = sum(collected.mapped("amount_company"))
            handoff.amount_commission = sum(handoff.report_ids.mapped("commission_amount")) + sum(
                handoff.report_ids.mapped("fee_amount")
            )
            handoff.amount_commission_company = sum(handoff.report_ids.mapped("commission_company"))
            handoff.amount_remaining = handoff.amount_handed - handoff.amount_collected
            handoff.fee_billed = any(handoff.report_ids.mapped("fee_amount"))

    @api.depends("report_ids.bill_id", "report_ids.move_id")
    def _compute_moves(self):
        for handoff in self:
            handoff.bill_ids = handoff.report_ids.bill_id
            handoff.bill_count = len(handoff.bill_ids)
            handoff.collection_move_ids = handoff.report_ids.move_id

    # === CONSTRAINT METHODS === #
    @api.constrains("move_line_ids", "partner_id", "state", "case_id", "agency_id")
    def _check_items(self):
        for handoff in self.filtered(lambda h: h.state == "active"):
            handoff.agency_id._ensure_terms()
            lines = handoff.move_line_ids
            writeoffs = handoff.writeoff_ids
            if not lines and not writeoffs:
                raise ValidationError(
                    self.env._(
                        "Hand at least one overdue item, or written-off debt, to the agency."
                    )
                )
            if writeoffs:
                handoff._check_writeoffs()
            if (lines and lines.company_id != handoff.company_id) or (
                handoff.agency_id.company_id != handoff.company_id
            ):
                raise ValidationError(
                    self.env._("An agency is handed items of its own company only.")
                )
            if lines and lines.currency_id != handoff.currency_id:
                raise ValidationError(self.env._("A hand-off covers items in its one currency."))
            if lines and lines.debt_case_id != handoff.case_id:
                raise ValidationError(
                    self.env._(
                        "A hand-off covers items of its case %(case)s only.",
                        case=handoff.case_id.display_name,
                    )
                )
            if lines:
                handoff._debt_check_pause_items(lines)
            for kind, fname in RECORD_HOLD_FIELDS.items():
                if kind == self._debt_pause_kind:
                    continue
                holder = lines[fname][:1]
                if holder:
                    raise ValidationError(
                        self.env._(
                            "%(record)s already holds some of these items: they cannot be "
                            "handed to an agency while it is open.",
                            record=holder.display_name,
                        )
                    )

    def _check_writeoffs(self):
        """The write-offs handed are posted ones of the case, in the hand-off's
        currency, with debt left to recover, and with no other agency."""
        self.ensure_one()
        writeoffs = self.writeoff_ids
        if (
            writeoffs.case_id != self.case_id
            or writeoffs.currency_id != self.currency_id
            or any(w.state != "posted" for w in writeoffs)
            or any(w.currency_id.is_zero(w.amount_recoverable) for w in writeoffs)
        ):
            raise ValidationError(
                self.env._(
                    "An agency is handed posted write-offs of its case %(case)s, in its "
                    "currency, with debt left to recover.",
                    case=self.case_id.display_name,
                )
            )
        other = self.search(
            [
                ("id", "!=", self.id),
                ("state", "=", "active"),
                ("writeoff_ids", "in", writeoffs.ids),
            ],
            limit=1,
        )
        if other:
            raise ValidationError(
                self.env._(
                    "This written-off debt is with %(handoff)s already.",
                    handoff=other.display_name,
                )
            )

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        handoffs = super().create(vals_list)
        for handoff in handoffs:
            lines = handoff.move_line_ids
            written_off = sum(handoff.writeoff_ids.mapped("amount_recoverable"))
            handoff._debt_write_state(
                {
                    "amount_handed": sum(lines.mapped("amount_residual_currency")) + written_off,
                    "amount_handed_company": sum(lines.mapped("amount_residual"))
                    + handoff.currency_id._convert(
                        written_off,
                        handoff.company_currency_id,
                        handoff.company_id,
                        handoff.date,
                    ),
                }
            )
            handoff._debt_start_pause(
                lines,
                self.env._(
                    "Handed to the collection agency %(agency)s: %(amount)s in %(count)s "
                    "item(s). Our reminders stop for them.",
                    agency=handoff.agency_id.display_name,
                    amount=format_amount(self.env, handoff.amount_handed, handoff.currency_id),
                    count=len(lines),
                ),
            )
        return handoffs

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(
            self.env._("A hand-off to an agency is a record: recall it instead of deleting it.")
        )

    @api.model
    def _debt_create_handoffs(self, vals_list):
        """Make the hand-offs of ``vals_list``, for the hand-off wizard (which
        checked the caller's rights and the cases): the only way their items,
        case, agency and date are set."""
        with workflow_step():
            return self.create(vals_list)

    # === ACTION METHODS === #
    def action_recall(self):
        """Take the items back from the agency: our escalation resumes."""
        self._debt_ensure_manager()
        today = fields.Date.context_today(self)
        for handoff in self:
            handoff._ensure_active()
        for handoff in self:
            handoff._bill_unbilled_fee(today)
            handoff._debt_end_pause(
                "recalled",
                self.env._(
                    "Recalled from the collection agency %(agency)s (%(collected)s of %(handed)s "
                    "collected): our reminders resume.",
                    agency=handoff.agency_id.display_name,
                    collected=format_amount(
                        self.env, handoff.amount_collected, handoff.currency_id
                    ),
                    handed=format_amount(self.env, handoff.amount_handed, handoff.currency_id),
                ),
                (today - handoff.date).days,
            )

    def action_record_report(self):
        self.ensure_one()
        self._debt_ensure_manager()
        self._ensure_active()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record an Agency Report"),
            "res_model": "debt.recovery.agency.report.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_handoff_id": self.id},
        }

    def action_generate_case_file(self):
        self._debt_ensure_manager()
        self._generate_case_file()

    def action_view_bills(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_in_invoice_type"
        )
        action["domain"] = [("id", "in", self.bill_ids.ids)]
        action["context"] = {"create": False, "default_move_type": "in_invoice"}
        return action

    # === BUSINESS METHODS === #
    def _debt_case(self, lines=None):
        # Written-off debt has no open item: the hand-off's own case.
        return super()._debt_case(lines) or self.case_id

    def _debt_ensure_manager(self):
        """Only a recovery manager hands debt to an agency, records its
        collections and recalls it (the actions are public methods)."""
        self.check_access("write")
        if not self.env.user.has_group("debt_recovery.group_debt_recovery_manager"):
            raise UserError(
                self.env._("Only a recovery manager works with the collection agencies.")
            )

    def _ensure_active(self):
        for handoff in self:
            if handoff.state != "active":
                raise UserError(
                    self.env._(
                        "%(handoff)s is no longer with the agency (%(state)s).",
                        handoff=handoff.display_name,
                        state=dict(self._fields["state"]._description_selection(self.env))[
                            handoff.state
                        ],
                    )
                )

    def _convert(self, amount, from_currency, date):
        """``amount`` of ``from_currency`` in the hand-off's currency at ``date``."""
        self.ensure_one()
        return from_currency._convert(amount, self.currency_id, self.company_id, date)

    def _commission_for(self, amount, date):
        """The commission earned on a new collection of ``amount``: the
        percentage of all that was collected, at least the minimum (never more
        than what was collected), less what was billed already."""
        self.ensure_one()
        agency = self.agency_id
        currency = self.currency_id
        collected = self.amount_collected + amount
        due = currency.round(collected * agency.commission_percent / 100.0)
        if agency.commission_minimum:
            minimum = self._convert(agency.commission_minimum, agency.currency_id, date)
            due = max(due, min(minimum, collected))
        billed = sum(self.report_ids.mapped("commission_amount"))
        return max(currency.round(due - billed), 0.0)

    def _fee_due(self, date):
        self.ensure_one()
        agency = self.agency_id
        if self.fee_billed or not agency.fee_per_case:
            return 0.0
        return self._convert(agency.fee_per_case, agency.currency_id, date)

    def _record_report(self, vals):
        """Record what the agency reports (``vals``: date, kind, amount, note).

        A collection is refused beyond what is still with the agency. When the
        agency collects on its own account, the collection is booked (agency
        clearing account against the customer's items, reconciled oldest
        first); its commission (and the fee of the case, once) becomes a draft
        vendor bill of the agency. Returns the report line.
        """
        self.ensure_one()
        self._debt_ensure_manager()
        self._ensure_active()
        today = fields.Date.context_today(self)
        date = vals.get("date") or today
        date = fields.Date.to_date(date)
        kind = vals.get("kind") or "contact"
        amount = vals.get("amount") or 0.0
        currency = self.currency_id
        if date > today:
            raise ValidationError(self.env._("An agency report cannot be dated in the future."))
        if date < self.date:
            raise ValidationError(
                self.env._(
                    "An agency report cannot be dated before the hand-off (%(date)s).",
                    date=fields.Date.to_string(self.date),
                )
            )
        if currency.compare_amounts(amount, 0.0) < 0:
            raise ValidationError(self.env._("An amount reported cannot be negative."))
        line_vals = {
            "handoff_id": self.id,
            "date": date,
            "kind": kind,
            "amount": amount,
            "note": vals.get("note"),
        }
        if kind == "collected":
            line_vals.update(self._prepare_collection(date, amount))
        with workflow_step():
            report = self.env["debt.recovery.agency.report"].create(line_vals)
        self.message_post(body=report._summary(), subtype_xmlid="mail.mt_note")
        self._debt_log(self.case_id, report._summary())
        if kind == "collected":
            self._close_if_done(date)
        return report

    def _prepare_collection(self, date, amount):
        """Check, book and bill a collection of ``amount``: the values of its
        report line. Everything is checked before anything is created."""
        self.ensure_one()
        currency = self.currency_id
        if currency.compare_amounts(amount, 0.0) <= 0:
            raise ValidationError(self.env._("A collection is for a positive amount."))
        if currency.compare_amounts(amount, self.amount_remaining) > 0:
            raise ValidationError(
                self.env._(
                    "The agency cannot have collected %(amount)s: only %(remaining)s of what "
                    "was handed to it (%(handed)s) is not reported collected yet.",
                    amount=format_amount(self.env, amount, currency),
                    remaining=format_amount(self.env, self.amount_remaining, currency),
                    handed=format_amount(self.env, self.amount_handed, currency),
                )
            )
        company = self.company_id
        journal = clearing = None
        if self.collects == "agency":
            open_amount = sum(
                self.move_line_ids.filtered(lambda line: not line.reconciled).mapped(
                    "amount_residual_currency"
                )
            ) + sum(self.writeoff_ids.mapped("amount_recoverable"))
            if currency.compare_amounts(amount, open_amount) > 0:
                raise ValidationError(
                    self.env._(
                        "The agency reports %(amount)s collected, but the items handed owe "
                        "only %(open)s: the customer paid part of them to us.",
                        amount=format_amount(self.env, amount, currency),
                        open=format_amount(self.env, open_amount, currency),
                    )
                )
            journal, clearing = company._debt_agency_accounts()
            if self.writeoff_ids:
                # Checked now: the recovery is booked with the write-off's accounts.
                company._debt_writeoff_accounts()
            lock_date = company._get_user_fiscal_lock_date(journal)
            if date <= lock_date:
                raise UserError(
                    self.env._(
                        "The collection of %(date)s falls in a period of %(company)s that is "
                        "locked (up to %(lock)s): record it at a later date.",
                        date=fields.Date.to_string(date),
                        company=company.display_name,
                        lock=fields.Date.to_string(lock_date),
                    )
                )
        commission = self._commission_for(amount, date)
        fee = self._fee_due(date)
        vals = {
            "collected_by": self.collects,
            "amount_company": currency._convert(amount, company.currency_id, company, date),
            "commission_amount": commission,
            "fee_amount": fee,
            "commission_company": currency._convert(
                commission + fee, company.currency_id, company, date
            ),
        }
        if journal:
            vals["move_id"] = self._book_collection(journal, clearing, date, amount).id
        if commission or fee:
            vals["bill_id"] = self._create_bill(date, commission, fee).id
        return vals

    def _book_collection(self, journal, clearing, date, amount):
        """Post the agency's collection: debit the clearing account (the agency
        as partner), credit each handed item, oldest first, and reconcile."""
        self.ensure_one()
        company = self.company_id
        currency = self.currency_id
        remaining = amount
        credit_vals = []
        settled = []
        for item in self.move_line_ids.filtered(lambda line: not line.reconciled).sorted(
            lambda line: (line.date_maturity or line.date, line.id)
        ):
            if currency.compare_amounts(remaining, 0.0) <= 0:
                break
            part = min(remaining, item.amount_residual_currency)
            remaining = currency.round(remaining - part)
            # At the rate of the day: Odoo's reconciliation books any exchange
            # difference with the invoice's rate.
            balance = currency._convert(part, company.currency_id, company, date)
            credit_vals.append(
                {
                    "name": self.env._(
                        "%(agency)s: collected on %(item)s",
                        agency=self.agency_id.name,
                        item=item.move_id.name,
                    ),
                    "account_id": item.account_id.id,
                    "partner_id": item.partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": -part,
                    "balance": -balance,
                }
            )
            settled.append(item)
        written_off = currency.round(remaining)
        if currency.compare_amounts(written_off, 0.0) > 0:
            # Beyond the open items: recovered on the written-off debt, through
            # an open credit of the customer that the recovery then matches.
            account = (
                self.writeoff_ids.line_ids.move_line_id.account_id[:1]
                or self.partner_id.with_company(company).property_account_receivable_id
            )
            credit_vals.append(
                {
                    "name": self.env._(
                        "%(agency)s: collected on written-off debt", agency=self.agency_id.name
                    ),
                    "account_id": account.id,
                    "partner_id": self.partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": -written_off,
                    "balance": -currency._convert(written_off, company.currency_id, company, date),
                }
            )
        debit = {
            "name": self.env._(
                "%(agency)s: collected for %(customer)s",
                agency=self.agency_id.name,
                customer=self.partner_id.name,
            ),
            "account_id": clearing.id,
            "partner_id": self.agency_id.partner_id.id,
            "currency_id": currency.id,
            "amount_currency": amount,
            "balance": -sum(vals["balance"] for vals in credit_vals),
        }
        # sudo: a recovery manager books what the agency collected without
        # accounting rights; the entry follows from the (access-checked) report.
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": date,
                    "ref": self.env._("Agency collection %(name)s", name=self.name),
                    "line_ids": [Command.create(debit)]
                    + [Command.create(vals) for vals in credit_vals],
                }
            )
        )
        move.action_post()
        credits = move.line_ids.filtered(lambda line: line.account_id != clearing).sorted("id")
        for credit, item in zip(credits, settled, strict=False):
            (credit | item.sudo()).reconcile()
        if currency.compare_amounts(written_off, 0.0) > 0:
            self.env["debt.recovery.writeoff.recovery"]._debt_book(
                self.case_id, credits[len(settled)], written_off, date, self.writeoff_ids or None
            )
        return move

    def _create_bill(self, date, commission, fee):
        """A draft vendor bill of the agency for its commission (and fee)."""
        self.ensure_one()
        company = self.company_id
        account = company.debt_agency_commission_account_id
        lines = []
        if commission:
            lines.append(
                {
                    "name": self.env._(
                        "Commission on the collections of %(case)s (%(customer)s)",
                        case=self.case_id.name,
                        customer=self.partner_id.name,
                    ),
                    "quantity": 1,
                    "price_unit": commission,
                    "tax_ids": [],
                }
            )
        if fee:
            lines.append(
                {
                    "name": self.env._("Fee for the case %(case)s", case=self.case_id.name),
                    "quantity": 1,
                    "price_unit": fee,
                    "tax_ids": [],
                }
            )
        if account:
            for vals in lines:
                vals["account_id"] = account.id
        # sudo: as _book_collection, the bill follows from the agency's report;
        # it stays a draft for the accountants to check and post.
        return (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": self.agency_id.partner_id.id,
                    "currency_id": self.currency_id.id,
                    "invoice_date": date,
                    "date": date,
                    "ref": self.name,
                    "invoice_origin": self.case_id.name,
                    "invoice_line_ids": [Command.create(vals) for vals in lines],
                }
            )
        )

    def _bill_unbilled_fee(self, date):
        """The fee of a case the agency collected nothing on, billed as it ends."""
        self.ensure_one()
        fee = self._fee_due(date)
        if not fee:
            return
        bill = self._create_bill(date, 0.0, fee)
        with workflow_step():
            self.env["debt.recovery.agency.report"].create(
                {
                    "handoff_id": self.id,
                    "date": date,
                    "kind": "other",
                    "note": self.env._("Fixed fee of the case."),
                    "fee_amount": fee,
                    "commission_company": self.currency_id._convert(
                        fee, self.company_currency_id, self.company_id, date
                    ),
                    "bill_id": bill.id,
                }
            )

    @api.model
    def _cron_close_settled(self):
        """Close the hand-offs whose items are all settled (the customer paid
        us, a credit note, a write-off): nothing is left for the agency."""
        handoffs = self.search([("state", "=", "active")])
        handoffs.move_line_ids.fetch(["reconciled"])
        handoffs._close_if_done(fields.Date.context_today(self))

    def _is_settled(self):
        """All that was handed is settled: the items paid, the written-off
        debt recovered; or, when the agency collects on its own account, all
        of it reported collected (its collections are booked). When the
        customer pays us directly, the agency's report is no payment: the
        items stay with the agency, our reminders stopped, until the
        customer's payment is registered and reconciled with them."""
        self.ensure_one()
        currency = self.currency_id
        booked = sum(
            report.amount
            for report in self.report_ids
            if report.kind == "collected" and report.collected_by == "agency"
        )
        if currency.compare_amounts(self.amount_handed - booked, 0.0) <= 0:
            return True
        return all(self.move_line_ids.mapped("reconciled")) and all(
            currency.is_zero(w.amount_recoverable) for w in self.writeoff_ids
        )

    def _close_if_done(self, date):
        """Close the hand-offs whose items are settled or all collected."""
        for handoff in self.filtered(lambda h: h.state == "active"):
            if not handoff._is_settled():
                continue
            handoff._bill_unbilled_fee(date)
            handoff._debt_end_pause(
                "closed",
                self.env._(
                    "Closed with the collection agency %(agency)s: %(collected)s collected.",
                    agency=handoff.agency_id.display_name,
                    collected=format_amount(
                        self.env, handoff.amount_collected, handoff.currency_id
                    ),
                ),
                (date - handoff.date).days,
            )

    # === DOCUMENT SENTENCES === #
    # Whole sentences for the templates, so that translators order their
    # parts (a sentence cut around its fields makes "by", "to" or "on" terms
    # of their own, shared with other uses of the same word).
    def _case_file_header(self):
        """Who the case file is for, since when, from whom."""
        self.ensure_one()
        return self.env._(
            "For %(agency)s, handed on %(date)s by %(creditor)s.",
            agency=self.agency_id.name,
            date=format_date(self.env, self.date),
            creditor=self.company_id.name,
        )

    def _announcement_sentence(self):
        """What the announcement letter tells the customer: the amount and
        the agency in bold."""
        self.ensure_one()
        sentence = self.env._(
            "Our reminders about the invoices below remained unanswered. We have therefore "
            "handed their collection, %(amount)s in all, to %(agency)s, who will contact you."
        )
        bold = Markup("<strong>%s</strong>")
        return Markup(escape(sentence)) % {
            "amount": bold % format_amount(self.env, self.amount_handed, self.currency_id),
            "agency": bold % self.agency_id.partner_id.name,
        }

    def _evidence_pack_summary(self):
        """The hand-off in a sentence, for the evidence pack: when, by whom, to
        which agency, what it collected and how it ended."""
        self.ensure_one()
        values = {
            "date": format_date(self.env, self.date),
            "user": self.user_id.name or "",
            "agency": self.agency_id.name,
            "amount": format_amount(self.env, self.amount_handed, self.currency_id),
            "collected": format_amount(self.env, self.amount_collected, self.currency_id),
            "date_closed": format_date(self.env, self.date_closed) if self.date_closed else "",
        }
        if self.state == "recalled":
            return self.env._(
                "Handed on %(date)s by %(user)s to %(agency)s: %(amount)s, of which "
                "%(collected)s collected; recalled on %(date_closed)s.",
                **values,
            )
        if self.state == "closed":
            return self.env._(
                "Handed on %(date)s by %(user)s to %(agency)s: %(amount)s, of which "
                "%(collected)s collected; closed on %(date_closed)s.",
                **values,
            )
        return self.env._(
            "Handed on %(date)s by %(user)s to %(agency)s: %(amount)s, of which "
            "%(collected)s collected so far; still with the agency.",
            **values,
        )

    # === CASE FILE === #
    def _case_file_data(self):
        """What the agency receives, as plain data (the PDF, CSV and JSON are
        made of it): the debtor, the items handed with their interest and
        costs, the totals, the history of contacts, promises, plans and
        disputes."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        customer = self.partner_id.commercial_partner_id
        company = self.company_id
        currency = self.currency_id
        items = self.move_line_ids.sorted(lambda line: (line.date_maturity or line.date, line.id))

        def address(partner):
            return {
                "type": partner.type,
                "name": partner.name or "",
                "street": partner.street or "",
                "street2": partner.street2 or "",
                "zip": partner.zip or "",
                "city": partner.city or "",
                "state": partner.state_id.name or "",
                "country": partner.country_id.code or "",
                "email": partner.email or "",
                "phone": partner.phone or "",
            }

        contacts = customer.child_ids.filtered(lambda p: p.active)
        item_rows = []
        for item in items:
            # What the item owed when handed is in the hand-off; what it owes
            # now is its residual.
            item_rows.append(
                {
                    "invoice": item.move_id.name,
                    "reference": item.move_id.ref or item.move_id.payment_reference or "",
                    "invoice_date": fields.Date.to_string(item.move_id.invoice_date or item.date),
                    "due_date": fields.Date.to_string(item.date_maturity),
                    "days_overdue": max((today - item.date_maturity).days, 0)
                    if item.date_maturity
                    else 0,
                    "amount": item.amount_currency,
                    "amount_open": item.amount_residual_currency,
                    "interest": item.debt_interest_accrued,
                    "costs": item.debt_compensation_due,
                    "currency": item.currency_id.name,
                }
            )
        total_open = currency.round(sum(row["amount_open"] for row in item_rows))
        total_interest = currency.round(sum(row["interest"] for row in item_rows))
        total_costs = currency.round(sum(row["costs"] for row in item_rows))
        written_off = [
            {
                "date": fields.Date.to_string(writeoff.date),
                "reason": writeoff.reason_id.name or "",
                "invoices": writeoff.line_ids.move_line_id.move_id.mapped("name"),
                "amount": writeoff.amount_total,
                "recovered": writeoff.amount_recovered,
                "recoverable": writeoff.amount_recoverable,
                "currency": writeoff.currency_id.name,
            }
            for writeoff in self.writeoff_ids.sorted(lambda w: (w.date, w.id))
        ]
        total_written_off = currency.round(sum(row["recoverable"] for row in written_off))
        case = self.case_id
        communications = self._case_file_communications()
        channel_labels = {
            "channel_email": self.env._("email"),
            "channel_letter": self.env._("letter"),
            "channel_phone": self.env._("phone"),
        }
        status_labels = dict(communications._fields["status"]._description_selection(self.env))
        history = [
            {
                "date": fields.Date.to_string(comm.date_sent or comm.date),
                "channel": ", ".join(
                    label for fname, label in channel_labels.items() if comm[fname]
                ),
                "level": comm.level_id.name or "",
                "status": status_labels.get(comm.status, comm.status or ""),
                "amount": comm.amount_total,
                "currency": comm.currency_id.name,
                "documents": [
                    {"name": doc.name, "checksum": doc.checksum, "file": path}
                    for path, doc in self._case_file_documents(comm)
                ],
            }
            for comm in communications
        ]
        # Calls are logged on the case's chatter (the Log a Call wizard).
        # sudo: the notes of the case's own chatter, which the user reads (the
        # case is access-checked); only their date and text are kept.
        calls = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", "debt.recovery.case"),
                    ("res_id", "=", case.id),
                    ("subtype_id", "=", self.env.ref("debt_recovery.mt_case_call").id),
                ],
                order="date, id",
            )
        )
        history += [
            {
                "date": fields.Date.to_string(message.date.date()),
                "channel": self.env._("phone call"),
                "level": "",
                "status": Markup(message.body).striptags()[:300],
                "amount": 0.0,
                "currency": currency.name,
                "documents": [],
            }
            for message in calls
        ]
        history.sort(key=lambda row: row["date"])
        domain = [("partner_id", "=", customer.id), ("company_id", "=", company.id)]
        promises = self.env["debt.recovery.promise"].search(domain, order="date, id")
        plans = self.env["debt.recovery.plan"].search(domain, order="id")
        disputes = self.env["debt.recovery.dispute"].search(domain, order="date, id")

        def label(record, fname):
            return dict(record._fields[fname]._description_selection(self.env)).get(
                record[fname], record[fname] or ""
            )

        return {
            "format": CASE_FILE_FORMAT,
            "version": 1,
            "generated_on": fields.Date.to_string(today),
            "creditor": {
                "name": company.name,
                "vat": company.vat or "",
                "company_registry": company.company_registry or "",
                "address": address(company.partner_id),
            },
            "agency": {"name": self.agency_id.name, "reference": self.name},
            "case": {
                "reference": case.name,
                "opened_on": fields.Date.to_string(case.date_open),
                "handed_on": fields.Date.to_string(self.date),
                "collector": case.user_id.name or "",
            },
            "debtor": {
                "name": customer.name,
                "reference": customer.ref or "",
                "vat": customer.vat or "",
                "company_registry": customer.company_registry or "",
                "is_company": customer.is_company,
                "language": customer.lang or "",
                "addresses": [address(customer)] + [address(p) for p in contacts],
            },
            "currency": currency.name,
            "items": item_rows,
            "written_off": written_off,
            "totals": {
                "amount_handed": self.amount_handed,
                "amount_open": total_open,
                "interest": total_interest,
                "costs": total_costs,
                "written_off": total_written_off,
                "claim": currency.round(
                    total_open + total_interest + total_costs + total_written_off
                ),
            },
            "contacts": history,
            "promises": [
                {
                    "date": fields.Date.to_string(promise.date),
                    "date_promised": fields.Date.to_string(promise.date_promised),
                    "amount": promise.amount,
                    "currency": promise.currency_id.name,
                    "state": label(promise, "state"),
                }
                for promise in promises
            ],
            "plans": [
                {
                    "date_agreement": fields.Date.to_string(plan.date_agreement) or "",
                    "amount": plan.amount_total,
                    "currency": plan.currency_id.name,
                    "state": label(plan, "state"),
                    "instalments": [
                        {
                            "due_date": fields.Date.to_string(instalment.date_due),
                            "amount": instalment.amount,
                        }
                        for instalment in plan.instalment_ids
                    ],
                }
                for plan in plans
            ],
            "disputes": [
                {
                    "date": fields.Date.to_string(dispute.date),
                    "invoice": dispute.move_id.name,
                    "reason": dispute.reason_id.name or "",
                    "amount": dispute.amount_disputed,
                    "currency": dispute.currency_id.name,
                    "state": label(dispute, "state"),
                    "date_closed": fields.Date.to_string(dispute.date_closed) or "",
                    "resolution": dispute.resolution_note or "",
                }
                for dispute in disputes
            ],
        }

    def _case_file_communications(self):
        """The communications that went (or go, by post) to the customer of the
        case, oldest first."""
        self.ensure_one()
        return self.case_id.communication_ids.filtered(
            lambda c: c.state in ("sent", "to_print")
        ).sorted(lambda c: (c.date_sent or c.date, c.id))

    @api.model
    def _case_file_documents(self, comm):
        """[(path in the case file's ZIP, attachment)] of the documents kept of
        ``comm``: its letter (the PDF that left) and the email's PDF when it
        differs."""
        return [
            (
                "letters/{}_{}_{}".format(
                    fields.Date.to_string(comm.date_sent or comm.date),
                    doc.id,
                    re.sub(r"[^\w.-]+", "_", doc.name or "document").strip("_"),
                ),
                doc,
            )
            for doc in (comm.letter_attachment_id | comm.email_attachment_id)
        ]

    @api.model
    def _case_file_csv(self, data):
        """The case file as one CSV table: a row a record, ``record_type``
        saying which."""
        rows = []

        def row(**values):
            rows.append({column: values.get(column, "") for column in CASE_FILE_COLUMNS})

        debtor = data["debtor"]
        row(
            record_type="debtor",
            reference=debtor["reference"],
            name=debtor["name"],
            detail=" ".join(filter(None, [debtor["vat"], debtor["company_registry"]])),
        )
        for addr in debtor["addresses"]:
            row(
                record_type="address",
                reference=addr["type"],
                name=addr["name"],
                detail=", ".join(
                    filter(
                        None,
                        [
                            addr["street"],
                            addr["street2"],
                            f"{addr['zip']} {addr['city']}".strip(),
                            addr["state"],
                            addr["country"],
                        ],
                    )
                ),
                channel=" ".join(filter(None, [addr["email"], addr["phone"]])),
            )
        for item in data["items"]:
            row(
                record_type="item",
                reference=item["invoice"],
                date=item["invoice_date"],
                due_date=item["due_date"],
                name=item["reference"],
                detail=str(item["days_overdue"]),
                amount=item["amount"],
                amount_open=item["amount_open"],
                interest=item["interest"],
                costs=item["costs"],
                currency=item["currency"],
            )
        for writeoff in data["written_off"]:
            row(
                record_type="written_off",
                reference=", ".join(writeoff["invoices"]),
                date=writeoff["date"],
                name=writeoff["reason"],
                amount=writeoff["amount"],
                amount_open=writeoff["recoverable"],
                currency=writeoff["currency"],
            )
        totals = data["totals"]
        row(
            record_type="total",
            reference=data["case"]["reference"],
            date=data["case"]["handed_on"],
            amount=totals["amount_handed"],
            amount_open=totals["amount_open"],
            interest=totals["interest"],
            costs=totals["costs"],
            currency=data["currency"],
        )
        for contact in data["contacts"]:
            row(
                record_type="contact",
                date=contact["date"],
                name=contact["level"],
                detail="; ".join(doc["name"] for doc in contact["documents"]),
                channel=contact["channel"],
                state=contact["status"],
                amount=contact["amount"],
                currency=contact["currency"],
            )
        for promise in data["promises"]:
            row(
                record_type="promise",
                date=promise["date"],
                due_date=promise["date_promised"],
                state=promise["state"],
                amount=promise["amount"],
                currency=promise["currency"],
            )
        for plan in data["plans"]:
            row(
                record_type="plan",
                date=plan["date_agreement"],
                detail="; ".join(f"{i['due_date']} {i['amount']}" for i in plan["instalments"]),
                state=plan["state"],
                amount=plan["amount"],
                currency=plan["currency"],
            )
        for dispute in data["disputes"]:
            row(
                record_type="dispute",
                reference=dispute["invoice"],
                date=dispute["date"],
                name=dispute["reason"],
                detail=dispute["resolution"],
                state=dispute["state"],
                amount=dispute["amount"],
                currency=dispute["currency"],
            )
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CASE_FILE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    def _generate_case_file(self):
        """Make the case file (PDF, CSV, JSON) of each hand-off, and the ZIP of
        those with the letters we sent (their kept documents), kept as its
        attachments (a new file replaces the link to the previous one, which
        stays on record)."""
        report = self.env.ref("debt_recovery.action_report_agency_case_file")
        Attachment = self.env["ir.attachment"]
        for handoff in self:
            data = handoff._case_file_data()
            pdf, _fmt = self.env["ir.actions.report"]._render_qweb_pdf(report, handoff.ids)
            base = self.env._("Case file %(name)s", name=handoff.case_id.name).replace("/", "-")
            files = {
                "case_file_pdf_id": (f"{base}.pdf", pdf, "application/pdf"),
                "case_file_csv_id": (
                    f"{base}.csv",
                    handoff._case_file_csv(data).encode(),
                    "text/csv",
                ),
                "case_file_json_id": (
                    f"{base}.json",
                    json.dumps(data, indent=2, ensure_ascii=False).encode(),
                    "application/json",
                ),
            }
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, raw, _mimetype in files.values():
                    archive.writestr(name, raw)
                for comm in handoff._case_file_communications():
                    for path, doc in handoff._case_file_documents(comm):
                        archive.writestr(path, doc.raw or b"")
            files["case_file_zip_id"] = (f"{base}.zip", buffer.getvalue(), "application/zip")
            attachments = Attachment.create(
                [
                    {
                        "name": name,
                        "raw": raw,
                        "mimetype": mimetype,
                        "res_model": handoff._name,
                        "res_id": handoff.id,
                    }
                    for name, raw, mimetype in files.values()
                ]
            )
            handoff._debt_write_state(
                dict(zip(files, attachments.ids, strict=True)),
            )
            handoff.message_post(
                body=self.env._("Case file for the agency made."),
                attachment_ids=attachments.ids,
                subtype_xmlid="mail.mt_note",
            )

    def _send_announcement(self):
        """Tell the customer that its debt is with the agency: the letter is
        rendered, kept, and sent from the case to the customer's collections
        contact (posted on the case when the contact has no email)."""
        report = self.env.ref("debt_recovery.action_report_agency_announcement")
        for handoff in self:
            pdf, _fmt = self.env["ir.actions.report"]._render_qweb_pdf(report, handoff.ids)
            name = self.env._(
                "Hand-off to %(agency)s - %(case)s",
                agency=handoff.agency_id.name,
                case=handoff.case_id.name,
            ).replace("/", "-")
            attachment = self.env["ir.attachment"].create(
                {
                    "name": f"{name}.pdf",
                    "raw": pdf,
                    "mimetype": "application/pdf",
                    "res_model": handoff._name,
                    "res_id": handoff.id,
                }
            )
            handoff._debt_write_state({"letter_attachment_id": attachment.id})
            contact = handoff.partner_id._debt_collections_contact()
            body = self.env._(
                "Dear customer, the amount of %(amount)s that you owe us is now collected by "
                "%(agency)s. Please find our letter attached.",
                amount=format_amount(self.env, handoff.amount_handed, handoff.currency_id),
                agency=handoff.agency_id.name,
            )
            handoff.case_id.with_context(mail_notify_force_send=False).message_post(
                body=body,
                subject=self.env._(
                    "Your account has been handed to %(agency)s", agency=handoff.agency_id.name
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=contact.ids if contact.email else [],
                attachment_ids=attachment.ids,
            )
