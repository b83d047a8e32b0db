"""Create thousands of records at once, for the daily escalation run.

``create()`` does per record what the daily run needs once per batch:
defaults, value conversion (HTML sanitising), mail.thread's followers,
tracking and creation message. These helpers insert a batch in one query
per 1,000 rows and leave the rest to the ORM, in batch: stored computed
fields are marked to compute, inverse relations are invalidated, access
rights, Python constraints and company consistency are checked.
"""

from markupsafe import escape

from odoo.models import MAGIC_COLUMNS
from odoo.tools import SQL, split_every
from odoo.tools.mail import generate_tracking_message_id

INSERT_BATCH_SIZE = 1000
CACHED_TYPES = {
    "boolean",
    "char",
    "date",
    "datetime",
    "float",
    "integer",
    "many2one",
    "monetary",
    "selection",
}


def bulk_create(model, vals_list, check_company=True):
    """Create records of ``model`` from plain values of its stored fields.

    Model-specific ``create()`` overrides are not run: call it only where
    that is intended (no followers, no tracking, no creation message), with
    values of stored fields (no x2many commands). Stored computed fields
    given a value keep it (the caller computed it for the batch: no UPDATE
    after the INSERT); the others are computed by the ORM. Monetary values
    are stored as given: round them in their currency. With
    ``check_company`` False, the caller vouches for the records' companies.

    :return: the new records, in the order of ``vals_list``
    """
    if not vals_list:
        return model.browse()
    model.check_access("create")
    fields_ = model._fields
    given = set().union(*vals_list)
    wrong = sorted(
        name
        for name in given
        if name in MAGIC_COLUMNS
        or name not in fields_
        or not fields_[name].store
        or not fields_[name].column_type
    )
    if wrong:
        raise ValueError(f"bulk_create({model._name}): not plain stored fields: {wrong}")
    missing = [
        name
        for name, field in fields_.items()
        if field.store
        and field.column_type
        and not field.compute
        and name not in MAGIC_COLUMNS
        and any(name not in vals for vals in vals_list)
    ]
    defaults = model.default_get(missing)
    columns = sorted(given | set(defaults))
    if not columns:
        raise ValueError(f"bulk_create({model._name}): no value to insert")
    converted = {}
    monetary = {
        name
        for name in columns
        if fields_[name].type == "monetary" and not fields_[name].company_dependent
    }

    def convert(name, value):
        if name in monetary:
            # Given rounded in its currency, as a float (the ORM would look up
            # the currency of an empty record for each value).
            return float(value or 0.0)
        # Each distinct value is converted (and sanitised) once.
        try:
            return converted[name, value]
        except KeyError:
            column = fields_[name].convert_to_column_insert(value, model)
            converted[name, value] = column
            return column
        except TypeError:  # unhashable value
            return fields_[name].convert_to_column_insert(value, model)

    log_columns = []
    log_values = []
    if model._log_access:
        now = model.env.cr.now()
        log_columns = ["create_uid", "create_date", "write_uid", "write_date"]
        log_values = [model.env.uid, now, model.env.uid, now]
    # One array per column, unnested: psycopg2 quotes arrays in C (a row of
    # VALUES is quoted in Python, value by value).
    array_types = [SQL(fields_[name].column_type[1] + "[]") for name in columns]
    ids = []
    for chunk in split_every(INSERT_BATCH_SIZE, vals_list):
        arrays = [
            [convert(name, vals[name] if name in vals else defaults.get(name)) for vals in chunk]
            for name in columns
        ]
        ids.extend(
            row[0]
            for row in model.env.execute_query(
                SQL(
                    "INSERT INTO %s (%s) SELECT *%s FROM unnest(%s) RETURNING id",
                    SQL.identifier(model._table),
                    SQL(", ").join(map(SQL.identifier, columns + log_columns)),
                    SQL("").join(SQL(", %s", value) for value in log_values),
                    SQL(", ").join(
                        SQL("%s::%s", array, array_type)
                        for array, array_type in zip(arrays, array_types, strict=True)
                    ),
                )
            )
        )
    records = model.browse(ids)
    # Relations pointing to the new records now have more lines (which
    # also forgets the new records' side).
    for name in columns:
        for inverse in model.pool.field_inverses[fields_[name]]:
            model.env[inverse.model_name].invalidate_model([inverse.name])
    # The values just inserted go to the cache: what follows (dependencies,
    # constraints) reads them without fetching the new rows back.
    for name in given:
        field = fields_[name]
        if field.type in CACHED_TYPES and not field.translate and not field.company_dependent:
            if all(name in vals for vals in vals_list):
                model.env.cache.update(
                    records,
                    field,
                    [
                        field.convert_to_cache(vals[name], records, validate=False)
                        for vals in vals_list
                    ],
                )
    # A computed field given in every row keeps its values; one given in only
    # some rows is computed for all.
    computed = [
        fields_[name]
        for name in given
        if fields_[name].compute and all(name in vals for vals in vals_list)
    ]
    with model.env.protecting(computed, records):
        records.modified(columns, create=True)
    records._validate_fields(columns)
    if check_company and model._check_company_auto:
        records._check_company()
    return records


def bulk_log_note(records, body):
    """Log the same internal note on each record's chatter in one INSERT.

    The messages are those of ``_message_log_batch`` (author, note subtype,
    no notification), the body escaped and sanitised once.
    """
    if not records:
        return records.env["mail.message"]
    env = records.env
    author_id, email_from = records._message_compute_author(None, None, raise_on_email=False)
    base = {
        "author_id": author_id,
        "email_from": email_from,
        "model": records._name,
        "message_type": "notification",
        "is_internal": True,
        "subtype_id": env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
        "email_add_signature": False,
        "message_id": generate_tracking_message_id("message-notify"),
        "reply_to": env["mail.thread"]._notify_get_reply_to(default=email_from)[False],
        "body": escape(body),
    }
    messages = bulk_create(
        env["mail.message"].sudo(), [dict(base, res_id=res_id) for res_id in records.ids]
    )
    records.invalidate_recordset(
        ["message_ids", "message_needaction", "message_needaction_counter"]
    )
    return messages
