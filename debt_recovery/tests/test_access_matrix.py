from contextlib import closing

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DebtRecoveryCommon

USERS = (
    "public",
    "portal",
    "billing",
    "billing_contacts",
    "collector",
    "manager",
    "manager_other_company",
)
# Who may do what, in the customer's company. The manager of another company
# may use the actions for that other company only: the customer's values in
# this company never change (checked for every operation).
ALLOWED = {
    "write_manual_hold": set(),
    "write_hold_override": set(),
    "write_hold_override_user": set(),
    "write_credit_limit": set(),
    "write_case_credit_limit": set(),
    "write_use_partner_credit_limit": set(),
    "create_held_customer": set(),
    "create_with_context_default": set(),
    "wizard_hold": {"collector", "manager", "manager_other_company"},
    "wizard_release": {"manager", "manager_other_company"},
    "wizard_override": {"manager", "manager_other_company"},
    "wizard_limit": {"manager", "manager_other_company"},
    "action_change_credit_limit": {"manager", "manager_other_company"},
    "partner_apply_suggested_limit": {"manager"},
    "risk_apply_suggested_limit": {"manager"},
}
# Refused by changing nothing: the case shows the customer's credit limit in
# a read-only related field, which a write leaves alone (no error).
IGNORED = {"write_case_credit_limit": {"collector", "manager"}}


@tagged("post_install", "-at_install")
class TestAccessMatrix(DebtRecoveryCommon):
    """Holds, overrides and credit limits: each kind of user, each way in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.setup_other_company()["company"]
        cls.users = {
            "public": cls.env.ref("base.public_user"),
            "portal": cls._portal_user(),
            "billing": cls.user_invoicing,
            "billing_contacts": cls.user_billing_contacts,
            "collector": cls.user_collector,
            "manager": cls.user_manager,
            "manager_other_company": cls._other_company_manager(cls.other_company),
        }
        # Held by a manager, with a limit; a second customer is not held.
        cls._set_credit_limit(cls.customer, 1000.0)
        cls.env["debt.recovery.hold"].with_user(cls.user_manager).create(
            {"partner_id": cls.customer.id, "action": "hold", "reason": "Cheque bounced"}
        ).action_apply()
        cls.free_customer = cls.env["res.partner"].create(
            {"name": "Free Customer", "is_company": True}
        )
        cls.risk = cls.env["debt.recovery.risk"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "date": cls.today,
                "score": 10,
                "band": "low",
                "suggested_credit_limit": 3000.0,
            }
        )
        cls._invoice(cls.customer, 100.0, days_late=10, post=False)
        cls.case = cls.Case.create({"partner_id": cls.customer.id, "company_id": cls.company.id})

    # === HELPERS === #
    def _state(self, company=None):
        """What the customers have in ``company``, read as superuser."""
        self.env.invalidate_all()
        state = {}
        for partner in (self.customer, self.free_customer):
            partner = partner.with_company(company or self.company).sudo()
            state[partner.name] = (
                partner.debt_manual_hold,
                partner.debt_hold_override,
                partner.debt_hold_override_user_id,
                partner.credit_limit,
                len(partner.message_ids),
            )
        return state

    def _wizard(self, user, action, partner=None, **values):
        return (
            self.env["debt.recovery.hold"]
            .with_user(user)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "action": action,
                    "reason": "As agreed",
                    **values,
                }
            )
            .action_apply()
        )

    def _operations(self):
        customer, free = self.customer, self.free_customer
        return {
            "write_manual_hold": lambda user: customer.with_user(user).write(
                {"debt_manual_hold": False}
            ),
            "write_hold_override": lambda user: customer.with_user(user).write(
                {"debt_hold_override": True}
            ),
            "write_hold_override_user": lambda user: customer.with_user(user).write(
                {"debt_hold_override_user_id": user.id}
            ),
            "write_credit_limit": lambda user: customer.with_user(user).write(
                {"credit_limit": 5000.0}
            ),
            "write_case_credit_limit": lambda user: self.case.with_user(user).write(
                {"credit_limit": 5000.0}
            ),
            "write_use_partner_credit_limit": lambda user: customer.with_user(user).write(
                {"use_partner_credit_limit": False}
            ),
            "create_held_customer": lambda user: self.env["res.partner"]
            .with_user(user)
            .create({"name": "Held From Birth", "debt_manual_hold": True, "credit_limit": 9.0}),
            "create_with_context_default": lambda user: self.env["res.partner"]
            .with_user(user)
            .with_context(default_debt_hold_override=True)
            .create({"name": "Overridden From Birth"}),
            "wizard_hold": lambda user: self._wizard(user, "hold", partner=free),
            "wizard_release": lambda user: self._wizard(user, "release"),
            "wizard_override": lambda user: self._wizard(user, "override"),
            "wizard_limit": lambda user: self._wizard(user, "limit", new_credit_limit=2500.0),
            "action_change_credit_limit": lambda user: customer.with_user(
                user
            ).action_debt_change_credit_limit(),
            "partner_apply_suggested_limit": lambda user: customer.with_user(
                user
            ).action_debt_apply_suggested_limit(),
            "risk_apply_suggested_limit": lambda user: self.risk.with_user(
                user
            ).action_apply_suggested_limit(),
        }

    # === TESTS === #
    def test_setup(self):
        self.assertFalse(self.user_invoicing.has_group("base.group_partner_manager"))
        self.assertTrue(self.user_billing_contacts.has_group("base.group_partner_manager"))
        self.assertTrue(self.customer.debt_manual_hold)
        self.assertEqual(self.customer.credit_limit, 1000.0)
        self.assertEqual(set(self._operations()), set(ALLOWED))

    def test_access_matrix(self):
        before = self._state()
        for operation, run in self._operations().items():
            for key in USERS:
                user = self.users[key]
                allowed = key in ALLOWED[operation]
                with (
                    self.subTest(operation=operation, user=key, allowed=allowed),
                    closing(self.cr.savepoint()),
                ):
                    if allowed or key in IGNORED.get(operation, ()):
                        run(user)
                    else:
                        with self.assertRaises(UserError), self.cr.savepoint():
                            run(user)
                    after = self._state()
                    if not allowed:
                        self.assertEqual(after, before, "The customer is unchanged.")
                    elif key == "manager_other_company":
                        # The chatter is the same in every company: only the values.
                        self.assertEqual(
                            {name: values[:4] for name, values in after.items()},
                            {name: values[:4] for name, values in before.items()},
                            "The customer is unchanged in this company.",
                        )
                        self._check_other_company(operation, user)
                    else:
                        self._check_allowed(operation, user, after)

    def _check_allowed(self, operation, user, after):
        held, override, granted_by, limit, _count = after[self.customer.name]
        expected = {
            "wizard_hold": lambda: self.assertTrue(after[self.free_customer.name][0]),
            "wizard_release": lambda: self.assertFalse(held),
            "wizard_override": lambda: (
                self.assertTrue(override),
                self.assertEqual(granted_by, user),
            ),
            "wizard_limit": lambda: self.assertEqual(limit, 2500.0),
            "action_change_credit_limit": lambda: self.assertEqual(limit, 1000.0),
            "partner_apply_suggested_limit": lambda: self.assertEqual(limit, 3000.0),
            "risk_apply_suggested_limit": lambda: self.assertEqual(limit, 3000.0),
        }
        expected[operation]()
        if operation != "action_change_credit_limit":
            partner = (
                self.free_customer if operation == "wizard_hold" else self.customer
            ).with_company(self.company)
            log = partner.sudo().message_ids[0]
            self.assertEqual(log.author_id, user.partner_id, "Who did it.")

    def _check_other_company(self, operation, user):
        """The other company's manager acted in the other company only."""
        state = self._state(self.other_company)
        held, override, granted_by, limit, _count = state[self.customer.name]
        if operation == "wizard_hold":
            self.assertTrue(state[self.free_customer.name][0])
        elif operation == "wizard_override":
            self.assertTrue(override)
            self.assertEqual(granted_by, user)
        elif operation == "wizard_limit":
            self.assertEqual(limit, 2500.0)

    def test_refusals_say_why(self):
        with self.assertRaises(UserError) as error:
            self.customer.with_user(self.user_billing_contacts).write({"debt_manual_hold": False})
        self.assertIn("Credit Hold", str(error.exception))
        self.assertIn("Held by Hand", str(error.exception))
        with self.assertRaises(UserError) as error:
            self.risk.with_user(self.user_invoicing).action_apply_suggested_limit()
        self.assertIn("Only a Recovery Manager can change credit limits", str(error.exception))
        with self.assertRaises(UserError) as error:
            self.customer.with_user(self.user_collector).action_debt_apply_suggested_limit()
        self.assertIn("Only a Recovery Manager can change credit limits", str(error.exception))

    def test_billing_user_cannot_post_past_a_hold_by_writing(self):
        """The issue's report: a billing user who may edit contacts lifts a
        manager's hold, or grants an override, and posts."""
        user = self.user_billing_contacts
        draft = self.customer.invoice_ids.filtered(lambda m: m.state == "draft")
        for vals in ({"debt_hold_override": True}, {"debt_manual_hold": False}):
            with self.assertRaises(UserError), self.cr.savepoint():
                self.customer.with_user(user).write(vals)
        with self.assertRaises(UserError), self.cr.savepoint():
            draft.with_user(user).action_post()
        self.assertEqual(draft.state, "draft")
        self.assertTrue(self._state()[self.customer.name][0], "Still held.")
