from odoo import fields, models, tools
from odoo.tools import SQL


class DebtRecoveryWriteoffReport(models.Model):
    """Written off and recovered, per period, reason and customer: each
    item written off and each recovery is a row, in company currency."""

    _name = "debt.recovery.writeoff.report"
    _description = "Write-Offs and Recoveries"
    _auto = False
    _order = "date desc"

    # === FIELDS === #
    date = fields.Date(readonly=True)
    kind = fields.Selection(
        selection=[("written_off", "Written Off"), ("recovered", "Recovered")], readonly=True
    )
    writeoff_id = fields.Many2one(comodel_name="debt.recovery.writeoff", readonly=True)
    case_id = fields.Many2one(comodel_name="debt.recovery.case", readonly=True)
    partner_id = fields.Many2one(comodel_name="res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one(comodel_name="res.company", readonly=True)
    reason_id = fields.Many2one(
        comodel_name="debt.recovery.writeoff.reason", string="Reason", readonly=True
    )
    automatic = fields.Boolean(string="Small Balance", readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    amount_written_off = fields.Monetary(readonly=True, currency_field="currency_id")
    amount_recovered = fields.Monetary(readonly=True, currency_field="currency_id")
    amount_vat = fields.Monetary(
        string="VAT Relief (Net)", readonly=True, currency_field="currency_id"
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                    SELECT line.id * 2 AS id,
                           'written_off' AS kind,
                           wo.date,
                           wo.id AS writeoff_id,
                           wo.case_id,
                           wo.partner_id,
                           wo.company_id,
                           wo.reason_id,
                           wo.automatic,
                           company.currency_id,
                           line.amount_company AS amount_written_off,
                           0.0 AS amount_recovered,
                           CASE WHEN line.amount = 0 THEN 0.0
                                ELSE line.amount_company * line.amount_vat / line.amount
                           END AS amount_vat
                      FROM debt_recovery_writeoff_line line
                      JOIN debt_recovery_writeoff wo ON wo.id = line.writeoff_id
                      JOIN res_company company ON company.id = wo.company_id
                     WHERE wo.state = 'posted'
                    UNION ALL
                    SELECT recovery.id * 2 + 1 AS id,
                           'recovered' AS kind,
                           recovery.date,
                           wo.id AS writeoff_id,
                           wo.case_id,
                           wo.partner_id,
                           wo.company_id,
                           wo.reason_id,
                           wo.automatic,
                           company.currency_id,
                           0.0 AS amount_written_off,
                           recovery.amount_company AS amount_recovered,
                           CASE WHEN recovery.amount = 0 THEN 0.0
                                ELSE -recovery.amount_company * recovery.amount_vat
                                     / recovery.amount
                           END AS amount_vat
                      FROM debt_recovery_writeoff_recovery recovery
                      JOIN debt_recovery_writeoff wo ON wo.id = recovery.writeoff_id
                      JOIN res_company company ON company.id = wo.company_id
                )
                """,
                table=SQL.identifier(self._table),
            )
        )
