"""Workflow states change through actions only (issue 14).

Before, a workflow state could be written directly: a dispute set to
"rejected" (or a promise, a plan closed) by editing the record kept its
items paused, out of the escalation for good. Items still held by a record
that is no longer open are released here; the new second send cron is
created by the data file.
"""

from odoo.tools import SQL

# Item field -> (record table, states in which the record holds its items).
HOLDS = {
    "debt_dispute_id": ("debt_recovery_dispute", ("open",)),
    "debt_promise_id": ("debt_recovery_promise", ("open",)),
    "debt_plan_id": ("debt_recovery_plan", ("draft", "proposed", "active")),
}


def migrate(cr, version):
    for column, (table, states) in HOLDS.items():
        cr.execute(
            SQL(
                "UPDATE account_move_line AS line SET %s = NULL FROM %s AS record "
                "WHERE line.%s = record.id AND record.state NOT IN %s",
                SQL.identifier(column),
                SQL.identifier(table),
                SQL.identifier(column),
                states,
            )
        )
