"""Communications lose their "Created By" column.

It repeated the communication's own creator (``create_uid``), which the form
now shows; the daily run inserts thousands of communications, and each
referenced user was one more foreign key checked per row. Odoo keeps columns
a model no longer declares: it is dropped here.
"""


def migrate(cr, version):
    cr.execute("ALTER TABLE debt_recovery_communication DROP COLUMN IF EXISTS user_id")
