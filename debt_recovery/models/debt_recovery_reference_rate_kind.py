from odoo import api, fields, models
from odoo.exceptions import UserError

# The kinds the statutes refer to (tools/late_payment.py RULES): kept.
STATUTORY_KINDS = ("ecb_mro", "de_base", "boe_bank")


class DebtRecoveryReferenceRateKind(models.Model):
    """A series of published reference rates: the ECB's, the German base
    rate and the Bank of England's are shipped (the statutes use them); a
    manager adds others (a contract's own reference, another central bank)
    for the policies that charge a reference rate plus a margin."""

    _name = "debt.recovery.reference.rate.kind"
    _description = "Reference Rate Kind"
    _order = "sequence, name"

    # === FIELDS === #
    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="A short technical name, unique (e.g. snb_policy).",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    is_statutory = fields.Boolean(
        compute="_compute_is_statutory",
        help="A statute refers to this kind: it cannot be deleted or renamed.",
    )
    rate_ids = fields.One2many(
        comodel_name="debt.recovery.reference.rate",
        inverse_name="kind_id",
        string="Rates",
    )
    description = fields.Text(translate=True)

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "A reference rate kind with this code already exists."),
    ]

    # === COMPUTE METHODS === #
    @api.depends("code")
    def _compute_is_statutory(self):
        for kind in self:
            kind.is_statutory = kind.code in STATUTORY_KINDS

    # === CRUD METHODS === #
    def write(self, vals):
        if "code" in vals and any(kind.is_statutory and kind.code != vals["code"] for kind in self):
            raise UserError(
                self.env._("The code of a reference rate a statute refers to cannot change.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_statutory_or_used(self):
        if any(kind.is_statutory for kind in self):
            raise UserError(
                self.env._("A reference rate a statute refers to cannot be deleted; archive it.")
            )
        used = self.filtered("rate_ids")
        if used:
            raise UserError(
                self.env._(
                    "%(kind)s has rates on record (interest already computed from them): "
                    "archive it instead.",
                    kind=used[0].display_name,
                )
            )
