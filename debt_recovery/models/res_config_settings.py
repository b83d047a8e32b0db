from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    debt_hold_on_limit = fields.Boolean(related="company_id.debt_hold_on_limit", readonly=False)
    debt_hold_overdue_days = fields.Integer(
        related="company_id.debt_hold_overdue_days", readonly=False
    )
    debt_hold_stage_id = fields.Many2one(related="company_id.debt_hold_stage_id", readonly=False)
    debt_letter_window = fields.Selection(related="company_id.debt_letter_window", readonly=False)
    debt_limitation_warning_days = fields.Integer(
        related="company_id.debt_limitation_warning_days", readonly=False
    )
    debt_charge_journal_id = fields.Many2one(
        related="company_id.debt_charge_journal_id", readonly=False
    )
    debt_interest_account_id = fields.Many2one(
        related="company_id.debt_interest_account_id", readonly=False
    )
    debt_compensation_account_id = fields.Many2one(
        related="company_id.debt_compensation_account_id", readonly=False
    )
    debt_writeoff_expense_account_id = fields.Many2one(
        related="company_id.debt_writeoff_expense_account_id", readonly=False
    )
    debt_writeoff_recovered_account_id = fields.Many2one(
        related="company_id.debt_writeoff_recovered_account_id", readonly=False
    )
    debt_writeoff_journal_id = fields.Many2one(
        related="company_id.debt_writeoff_journal_id", readonly=False
    )
    debt_writeoff_vat_relief = fields.Boolean(
        related="company_id.debt_writeoff_vat_relief", readonly=False
    )
    debt_writeoff_approval_amount = fields.Monetary(
        related="company_id.debt_writeoff_approval_amount", readonly=False
    )
    debt_agency_clearing_account_id = fields.Many2one(
        related="company_id.debt_agency_clearing_account_id", readonly=False
    )
    debt_agency_journal_id = fields.Many2one(
        related="company_id.debt_agency_journal_id", readonly=False
    )
    debt_agency_commission_account_id = fields.Many2one(
        related="company_id.debt_agency_commission_account_id", readonly=False
    )
