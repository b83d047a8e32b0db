import math

from odoo import api, models
from odoo.exceptions import ValidationError

# PostgreSQL's integer column.
MAX_INTEGER = 2**31 - 1


class DebtRecoveryNumberMixin(models.AbstractModel):
    """Records whose numbers are typed in (amounts, fees, counts, days): a
    number that is not finite (inf, NaN) or does not fit its column is refused
    with a clear message, before the ORM rounds it (which fails on them)."""

    _name = "debt.recovery.number.mixin"
    _description = "Finite Numbers Only"

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        self._debt_check_numbers(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._debt_check_numbers([vals])
        return super().write(vals)

    def onchange(self, values, field_names, fields_spec):
        # The form's onchange converts the values before create/write would
        # see them: refused here too, with the same message.
        self._debt_check_numbers([values])
        return super().onchange(values, field_names, fields_spec)

    # === BUSINESS METHODS === #
    @api.model
    def _debt_check_numbers(self, vals_list):
        for vals in vals_list:
            for fname, value in vals.items():
                field = self._fields.get(fname)
                if not field or field.type not in ("float", "monetary", "integer"):
                    continue
                if not value or isinstance(value, bool):
                    continue
                try:
                    number = float(value)
                except (TypeError, ValueError) as error:
                    raise ValidationError(self._debt_number_message(field)) from error
                if not math.isfinite(number) or (
                    field.type == "integer" and abs(number) > MAX_INTEGER
                ):
                    raise ValidationError(self._debt_number_message(field))

    @api.model
    def _debt_number_message(self, field):
        return self.env._(
            "%(field)s must be a finite number within reason.",
            field=field._description_string(self.env),
        )
