import functools

from odoo import api, models
from odoo.exceptions import UserError

from ..tools import CodeFlag

# Up while a workflow action of this module runs. Only Python code raises it,
# for the length of the action: no argument or context key that an RPC caller
# sends can, unlike a context key (RPC callers send any context they like).
WORKFLOW_STEP = CodeFlag("debt_recovery_workflow_step")
# Let the code inside write the workflow fields of the records it moves.
workflow_step = WORKFLOW_STEP.raised


def workflow_action(method):
    """Decorate a method that moves records through their workflow: the
    workflow fields it writes (itself or through the methods it calls) are
    accepted. The method checks the caller's rights and the states it starts
    from itself."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with workflow_step():
            return method(self, *args, **kwargs)

    return wrapper


class DebtRecoveryWorkflowMixin(models.AbstractModel):
    """Records whose workflow fields (states, the dates and people of their
    steps) change only through their actions.

    ``_debt_workflow_fields`` names those fields. A ``write()`` of one of them,
    or a ``create()`` with one of them set to something else than its default,
    is refused unless it comes from a workflow action (``workflow_action``,
    ``workflow_step``, ``_debt_write_state``) or runs as superuser (crons,
    the system's own code).
    """

    _name = "debt.recovery.workflow.mixin"
    _description = "Workflow Fields Changed by Actions Only"

    _debt_workflow_fields = ()

    # === CRUD METHODS === #
    @api.model_create_multi
    def create(self, vals_list):
        self._debt_check_workflow_vals(vals_list, create=True)
        return super().create(vals_list)

    def write(self, vals):
        self._debt_check_workflow_vals([vals])
        return super().write(vals)

    # === BUSINESS METHODS === #
    @api.model
    def _debt_workflow_unlocked(self):
        return self.env.su or bool(WORKFLOW_STEP)

    @api.model
    def _debt_check_workflow_vals(self, vals_list, create=False):
        """Refuse the workflow fields in ``vals_list`` (at creation: those set
        to something else than their default, also through the context)."""
        if not self._debt_workflow_fields or self._debt_workflow_unlocked():
            return
        refused = set()
        for vals in vals_list:
            for fname in self._debt_workflow_fields:
                if fname not in vals:
                    continue
                if not create or (vals[fname] or False) != self._debt_workflow_default(fname):
                    refused.add(fname)
        if create:
            for fname in self._debt_workflow_fields:
                key = f"default_{fname}"
                if key in self.env.context and (
                    (self.env.context[key] or False) != self._debt_workflow_default(fname)
                ):
                    refused.add(fname)
        if refused:
            labels = sorted(self._fields[fname]._description_string(self.env) for fname in refused)
            raise UserError(
                self.env._(
                    "%(fields)s of a %(model)s change only through its actions "
                    "(its buttons), not by editing the record.",
                    fields=", ".join(labels),
                    model=self.env["ir.model"].sudo()._get(self._name).name,
                )
            )

    @api.model
    def _debt_workflow_default(self, fname):
        field = self._fields[fname]
        return (field.default(self) if field.default else False) or False

    def _debt_ensure_workflow_access(self):
        """The caller may act on these records: the actions are public methods,
        callable over RPC by anyone who can read the records."""
        self.check_access("write")

    def _debt_write_state(self, vals):
        """Write workflow fields of these records, for their actions (which
        checked the caller's rights and the states they start from): the
        caller's own write, so that the chatter and the record name who did it."""
        with workflow_step():
            return self.write(vals)
