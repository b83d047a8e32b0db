from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .debt_recovery_stage import RECORD_HOLD_FIELDS


class DebtRecoveryPauseMixin(models.AbstractModel):
    """A record that holds the escalation of the receivable items it covers: a
    dispute, a promise to pay, a payment plan (later agency and legal holds).

    The model names the stage kind it pauses a case in (``_debt_pause_kind``);
    the journal item field it sets on the items it covers follows from that
    kind (``RECORD_HOLD_FIELDS``). It has ``move_line_ids`` (the items it
    covers), ``user_id`` (who took it), ``state``, ``date_closed`` and a
    ``_compute_name``; the mixin gives the name, company and customer. Its
    workflow fields (``_debt_workflow_fields``) change only through its actions.
    """

    _name = "debt.recovery.pause.mixin"
    _inherit = ["debt.recovery.workflow.mixin"]
    _description = "Escalation Pause"
    _check_company_auto = True

    _debt_pause_kind = None

    # === FIELDS === #
    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, index=True, default=lambda s: s.env.company
    )
    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer", index=True)

    # === CONSTRAINT HELPERS === #
    def _debt_pause_field(self):
        return RECORD_HOLD_FIELDS[self._debt_pause_kind]

    def _debt_check_pause_items(self, lines):
        """Refuse ``lines`` unless they are open receivable items of the record's
        customer that no other record of the same kind holds."""
        self.ensure_one()
        # sudo: only the model's (translated) label is read.
        kind = self.env["ir.model"].sudo()._get(self._name).name
        customer = self.partner_id.commercial_partner_id
        if lines.partner_id.commercial_partner_id != customer or any(
            line.account_type != "asset_receivable" or line.reconciled for line in lines
        ):
            raise ValidationError(
                self.env._(
                    "A %(kind)s covers open receivable items of its own customer "
                    "(%(customer)s) only.",
                    kind=kind,
                    customer=customer.display_name,
                )
            )
        taken = lines.mapped(self._debt_pause_field()) - self
        if taken:
            raise ValidationError(
                self.env._(
                    "These items are already covered by the %(kind)s %(record)s.",
                    kind=kind,
                    record=taken[0].display_name,
                )
            )

    # === BUSINESS METHODS === #
    def _debt_case(self, lines=None):
        """The recovery case of the items (the open one, if they have several)."""
        cases = (self.move_line_ids if lines is None else lines).debt_case_id
        return cases.filtered(lambda case: not case.is_closed)[:1] or cases[:1]

    def _debt_log(self, case, note):
        """Log ``note`` on the case, or on the customer when there is no case."""
        # sudo: a collector may not write on customers; the note only records
        # this record's own event.
        (case or self.partner_id.sudo()).message_post(body=note, subtype_xmlid="mail.mt_note")

    def _debt_start_pause(self, lines, note):
        """Hold ``lines`` under this record: the escalation leaves them alone, the
        case moves to the pause stage once none of its overdue debt is left
        unheld, and ``note`` says why on the case."""
        self.ensure_one()
        # sudo: the pause fields are read-only on journal items; holding them
        # follows from this record's own (access-checked) creation.
        lines.sudo().write({self._debt_pause_field(): self.id})
        case = self._debt_case(lines)
        if case and not case._debt_has_unpaused_overdue():
            case._pause_stage(self._debt_pause_kind)
        self._debt_log(case, note)
        return case

    def _debt_end_pause(self, state, note, paused_days, alert=None):
        """Close this record in ``state`` and release its items.

        The ``paused_days`` do not count as waiting for the items' next level;
        ``note`` is logged on the case, which goes back to the stage it had
        reached once nothing else of that kind holds it; with ``alert`` (a
        summary), whoever follows the case up gets a to-do, unless the case is
        closed (recovered or written off): there is nothing left to chase.
        """
        self.ensure_one()
        fname = self._debt_pause_field()
        # sudo: as in _debt_start_pause, releasing follows from the record.
        lines = self.move_line_ids.filtered_domain([(fname, "=", self.id)]).sudo()
        self._debt_shift_level_dates(lines, paused_days)
        lines.write({fname: False})
        self._debt_write_state({"state": state, "date_closed": fields.Date.context_today(self)})
        case = self._debt_case()
        self._debt_log(case, note)
        if case:
            case._resume_stage(self._debt_pause_kind)
            if alert and not case.is_closed:
                case.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=alert,
                    note=note,
                    user_id=self._debt_alert_user(case).id,
                )
        return case

    def _debt_alert_user(self, case):
        """Who is told when the record fails (a broken promise, a breached plan)."""
        return case.user_id or self.user_id or self.env.user

    @api.model
    def _debt_shift_level_dates(self, lines, days):
        """Move the items' last level dates forward: a pause does not count as
        waiting for the next level."""
        if not lines or days <= 0:
            return
        last = [sent_id for sent_id, _level, _date in lines._debt_last_levels().values()]
        if not last:
            return
        self.env.execute_query(
            SQL(
                "UPDATE debt_recovery_communication_line SET level_date = level_date + %s "
                "WHERE id IN %s AND level_date IS NOT NULL",
                days,
                tuple(last),
            )
        )
        self.env["debt.recovery.communication.line"].browse(last).invalidate_recordset(
            ["level_date"]
        )
        lines.invalidate_recordset(["debt_level_date"])
