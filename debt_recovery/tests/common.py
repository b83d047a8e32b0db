from datetime import timedelta

from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.mail.tests.common import mail_new_test_user

MANAGER_GROUPS = (
    "base.group_user,account.group_account_invoice,debt_recovery.group_debt_recovery_manager"
)


class DebtRecoveryCommon(AccountTestInvoicingCommon):
    @classmethod
    def default_env_context(cls):
        # Keep the chatter on: what a case logs is part of what is tested.
        return {"no_reset_password": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.today = fields.Date.context_today(cls.env.user)
        cls.Case = cls.env["debt.recovery.case"]
        cls.Stage = cls.env["debt.recovery.stage"]
        cls.stage_current = cls.env.ref("debt_recovery.stage_current")
        cls.stage_reminder = cls.env.ref("debt_recovery.stage_reminder")
        cls.stage_formal_notice = cls.env.ref("debt_recovery.stage_formal_notice")
        cls.stage_closed = cls.env.ref("debt_recovery.stage_closed")

        cls.user_invoicing = cls._user(
            "dr_invoicing", "Ivy Invoicing", "base.group_user,account.group_account_invoice"
        )
        cls.user_collector = cls._user(
            "dr_collector",
            "Colin Collector",
            "base.group_user,debt_recovery.group_debt_recovery_user",
        )
        cls.user_manager = cls._user("dr_manager", "Mona Manager", MANAGER_GROUPS)
        cls.user_billing_contacts = cls._user(
            "dr_billing_contacts",
            "Bill Contacts",
            "base.group_user,account.group_account_invoice,base.group_partner_manager",
        )
        cls.customer = cls.env["res.partner"].create({"name": "Late Payer Ltd", "is_company": True})
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "Lucy Late", "parent_id": cls.customer.id, "type": "invoice"}
        )

    @classmethod
    def _set_credit_limit(cls, partner, limit, company=None):
        """Set a credit limit as a Recovery Manager does: through the action
        (a direct write of the field is refused)."""
        partner.with_user(cls.user_manager).with_company(
            company or cls.company
        )._debt_set_credit_limit(limit, "Set up for the test")

    @classmethod
    def _user(cls, login, name, groups, company=None):
        """A user of ``company`` (the test company by default) only."""
        company = company or cls.company
        return mail_new_test_user(
            cls.env,
            login=login,
            name=name,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    @classmethod
    def _portal_user(cls, login="dr_portal"):
        return cls._user(login, "Pat Portal", "base.group_portal")

    @classmethod
    def _other_company_manager(cls, company, login="dr_manager_other"):
        """A Recovery Manager of ``company``, who has no access to the test company."""
        return cls._user(login, "Otto Other", MANAGER_GROUPS, company=company)

    @classmethod
    def _invoice(cls, partner, amount, days_late, currency=None, post=True, company=None):
        """A customer invoice of ``amount`` whose due date is ``days_late`` days ago."""
        company = company or cls.company
        due = cls.today - timedelta(days=days_late)
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": min(due, cls.today) - timedelta(days=30),
                    "invoice_date_due": due,
                    "invoice_payment_term_id": False,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Consulting",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoices, amount=None, date=None):
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({"payment_date": date or cls.today})
        )
        if amount is not None:
            wizard.amount = amount
        return wizard._create_payments()

    @classmethod
    def _credit_note(cls, partner, amount, currency=None):
        """A posted customer credit note of ``amount``, applied to no invoice."""
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": cls.today,
                "currency_id": (currency or cls.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Refund", "quantity": 1, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        return refund

    @classmethod
    def _unapplied_payment(cls, partner, amount):
        """A posted customer payment of ``amount``, reconciled with no invoice."""
        payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "date": cls.today,
                "journal_id": cls.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        return payment

    def _case_of(self, partner, company=None):
        return self.Case.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", (company or self.company).id),
                ("is_closed", "=", False),
            ]
        )
