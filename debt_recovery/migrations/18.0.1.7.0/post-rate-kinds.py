"""Reference rates name their kind by a record (managers add their own
kinds); the rates on record keep theirs.

Until 18.0.1.7.0 the kind was a selection stored in ``kind``; that column
now holds the kind's code (a related field), so each rate gets the kind
record of its code, loaded with the module's data before this runs.
"""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL(
            "UPDATE debt_recovery_reference_rate rate SET kind_id = kind.id "
            "FROM debt_recovery_reference_rate_kind kind "
            "WHERE kind.code = rate.kind AND rate.kind_id IS NULL"
        )
    )
