"""An item's last recovery level now lives on its communication lines.

18.0.1.0.0 wrote it on the journal item itself (``debt_level_id`` and
``debt_level_date`` on account.move.line); the daily run then rewrote
thousands of journal items, each with 25 indexes. The line of the level an
item was last sent takes over the date its wait counts from (which pauses
may have moved forward); the old columns are dropped.
"""


def migrate(cr, version):
    cr.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'account_move_line' AND column_name = 'debt_level_date'"
    )
    if not cr.fetchone():
        return
    cr.execute(
        """
        UPDATE debt_recovery_communication_line cl
           SET level_date = aml.debt_level_date
          FROM account_move_line aml
         WHERE aml.id = cl.move_line_id
           AND aml.debt_level_id = cl.level_id
           AND aml.debt_level_date IS NOT NULL
        """
    )
    cr.execute(
        """
        UPDATE debt_recovery_communication_line cl
           SET level_date = c.date
          FROM debt_recovery_communication c
         WHERE c.id = cl.communication_id
           AND cl.level_date IS NULL
        """
    )
    cr.execute(
        "ALTER TABLE account_move_line DROP COLUMN debt_level_id, DROP COLUMN debt_level_date"
    )
