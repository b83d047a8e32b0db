"""Communication lines lose their log columns and a redundant index.

A line is written once with its communication, which records who created it
and when; the daily run inserts thousands, and each log column referencing a
user was one more foreign key checked per line. Lookups by item use the
unique (item, level) index, so the item's own index only cost its upkeep.
Odoo keeps columns and indexes a model no longer declares: they are dropped
here.
"""


def migrate(cr, version):
    cr.execute("DROP INDEX IF EXISTS debt_recovery_communication_line__move_line_id_index")
    cr.execute(
        """
        ALTER TABLE debt_recovery_communication_line
            DROP COLUMN IF EXISTS create_uid,
            DROP COLUMN IF EXISTS create_date,
            DROP COLUMN IF EXISTS write_uid,
            DROP COLUMN IF EXISTS write_date
        """
    )
