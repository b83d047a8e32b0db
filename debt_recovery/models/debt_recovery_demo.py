"""The demo data, told as a story through the real flows.

Nine customers are invoiced over the last four months; some pay, in full or
in part, one gets a credit note; every day the crons run as they are
scheduled (case sync, promises, plans, escalation, sending) and the credit
controller does what a day brings: prints the letters, takes a call, agrees
a payment plan, takes a promise, opens a dispute. Every record is made by the
code a user or a cron runs, on the day it happens (``freeze_time``), so that
each stage, communication and message tells what really happened, with its
true date. ``freeze_time`` sets the clock of the whole process, for the
minute the story takes: demo data belongs in a database nobody else works in.

Three things stand in for the outside world. The demo database has no mail
server: each day's emails are handed to a sink that accepts them as a server
would (Odoo's own sending code runs, up to the SMTP call), and one of them
comes back as a bounce through Odoo's incoming mail processing. And no web
server runs while a module installs: wkhtmltopdf gets the letters' fonts from
a small server of the addons' static files, for the time of the story.
"""

import contextlib
import logging
import threading
from datetime import datetime, time, timedelta
from email.utils import formatdate, make_msgid

import werkzeug.serving

from odoo import Command, api, fields, http, models

_logger = logging.getLogger(__name__)

# The customers: their country is the company's unless given (with its
# language); ``contact`` is the person the letters are addressed to.
CUSTOMERS = {
    "dune": {
        "name": "Dune Logistics",
        "street": "4100 East Washington Street",
        "zip": "85034",
        "city": "Phoenix",
        "state": "AZ",
        "email": "accounts@dune.example.com",
        "phone": "+1 602-555-0148",
    },
    "ferro": {
        "name": "Ferro Construct",
        "street": "1850 Wazee Street",
        "street2": "Suite 300",
        "zip": "80202",
        "city": "Denver",
        "state": "CO",
        "email": "accounts@ferro.example.com",
        "phone": "+1 303-555-0191",
        "contact": ("Dana Whitfield", "dana.whitfield@ferro.example.com"),
    },
    "helios": {
        "name": "Helios Retail SARL",
        "street": "12 rue de la République",
        "zip": "69002",
        "city": "Lyon",
        "country": "fr",
        "lang": "fr_FR",
        "email": "comptabilite@helios.example.com",
        "phone": "+33 4 72 00 18 45",
        "contact": ("Claire Martin", "claire.martin@helios.example.com"),
    },
    "kestrel": {
        "name": "Kestrel Foods",
        "street": "901 East 6th Street",
        "zip": "78702",
        "city": "Austin",
        "state": "TX",
        "email": "accounts@kestrel.example.com",
        "phone": "+1 512-555-0116",
    },
    "nordwind": {
        "name": "Nordwind Handel GmbH",
        "street": "Große Elbstraße 145",
        "zip": "22767",
        "city": "Hamburg",
        "country": "de",
        "lang": "de_DE",
        "email": "buchhaltung@nordwind.example.com",
        "phone": "+49 40 5550 1234",
        "contact": ("Jonas Becker", "jonas.becker@nordwind.example.com"),
    },
    "orbit": {
        "name": "Orbit Media",
        "street": "2200 Westlake Avenue",
        "zip": "98121",
        "city": "Seattle",
        "state": "WA",
        "email": "accounts@orbit.example.com",
        "phone": "+1 206-555-0173",
    },
    "quarry": {
        "name": "Quarry Stone Supplies",
        "street": "3100 West Main Street",
        "zip": "83702",
        "city": "Boise",
        "state": "ID",
        "email": "accounts@quarry.example.com",
        "phone": "+1 208-555-0135",
    },
    "lumen": {
        "name": "Lumen Studio",
        "street": "820 NW Glisan Street",
        "zip": "97209",
        "city": "Portland",
        "state": "OR",
        # An address that no longer exists: the reminder bounces.
        "email": "billing@lumen-studio.example.com",
        "phone": "+1 503-555-0182",
    },
    "maple": {
        "name": "Maple Office Supply",
        "street": "250 North High Street",
        "zip": "43215",
        "city": "Columbus",
        "state": "OH",
        "email": "accounts@maple.example.com",
        "phone": "+1 614-555-0107",
    },
}

# The invoices: (customer, amount, in euros, invoiced days ago, due days ago).
INVOICES = {
    "dune_1": ("dune", 2640.0, False, 78, 48),
    "dune_2": ("dune", 1850.0, False, 37, 7),
    "ferro_1": ("ferro", 4200.0, False, 60, 30),
    "ferro_2": ("ferro", 960.0, False, 42, 12),
    "helios_1": ("helios", 3900.0, True, 112, 82),
    "helios_2": ("helios", 7300.0, True, 80, 50),
    "kestrel_1": ("kestrel", 12500.0, False, 106, 76),
    "kestrel_2": ("kestrel", 3100.0, False, 75, 45),
    "nordwind_1": ("nordwind", 5400.0, True, 90, 60),
    "orbit_0": ("orbit", 6400.0, False, 119, 89),
    "orbit_1": ("orbit", 22750.0, False, 110, 80),
    "quarry_1": ("quarry", 1760.0, False, 118, 88),
    "quarry_2": ("quarry", 2980.0, False, 70, 40),
    "lumen_1": ("lumen", 1420.0, False, 47, 17),
    "maple_1": ("maple", 2150.0, False, 70, 40),
}

START = 120  # the story starts this many days ago


class DebtRecoveryDemo(models.AbstractModel):
    _name = "debt.recovery.demo"
    _description = "Recovery Demo Data"

    # === ENTRY POINT === #
    @api.model
    def _debt_demo_load(self):
        """Load the demo story (once: an update of the module leaves it)."""
        if self.env.ref("debt_recovery.demo_partner_dune", raise_if_not_found=False):
            return
        self._debt_demo_languages()
        admin = self.env.ref("base.user_admin")
        company = self.env.ref("base.main_company")
        # What a credit controller does, done as one: Mitchell Admin, a Recovery
        # Manager (accounting administrators are), in the demo company.
        demo = (
            self.with_user(admin).with_company(company).with_context(mail_notify_force_send=False)
        )
        today = fields.Date.context_today(demo)
        demo._debt_demo_currency(today)
        customers = demo._debt_demo_customers()
        start = datetime.combine(today - timedelta(days=START), time(9, 0))
        # Odoo's own test dependency; imported here, where only the demo needs it.
        from freezegun import freeze_time  # pylint: disable=import-outside-toplevel

        # freeze_time: each day's crons and actions see that day as today, as
        # they did when it happened (the tests' way of running a given day).
        with _static_server(self.env), freeze_time(start) as frozen:
            story = _Story(demo, self.with_company(company), customers, company, frozen)
            for offset in range(START, -1, -1):
                story.day(today - timedelta(days=offset), offset)
        # Today's risk scores, as the 01:30 cron computes them.
        self.env["debt.recovery.risk"]._cron_compute_risk()
        _logger.info("Debt recovery demo: %s communications", story.communication_count())

    # === SET-UP === #
    @api.model
    def _debt_demo_languages(self):
        """French and German, with the translations of the installed modules
        and of this one (loaded now: the letters of the story are rendered
        before the module's install ends)."""
        langs = self.env["res.lang"].with_context(active_test=False)
        langs = langs.search([("code", "in", ("fr_FR", "de_DE"))])
        self.env["base.language.install"].create(
            {"lang_ids": [Command.set(langs.ids)]}
        ).lang_install()
        self.env["ir.module.module"].search([("name", "=", "debt_recovery")])._update_translations(
            langs.mapped("code")
        )

    @api.model
    def _debt_demo_collector(self):
        """Marc Demo, Odoo's demo user, made a Recovery User: the collector."""
        user = self.env.ref("base.user_demo", raise_if_not_found=False)
        if user:
            group = self.env.ref("debt_recovery.group_debt_recovery_user")
            # sudo: the demo's users and their groups, set up as an administrator does.
            user.sudo().write({"groups_id": [Command.link(group.id)]})
        return user

    @api.model
    def _debt_demo_currency(self, today):
        """Euros, at a rate of the last months (invoices in euros convert)."""
        eur = self.env.ref("base.EUR")
        # sudo: currencies and rates are configuration, set up for the demo.
        eur.sudo().active = True
        self.env["res.currency.rate"].sudo().create(
            {
                "currency_id": eur.id,
                "name": today - timedelta(days=200),
                "rate": 0.92,
                "company_id": self.env.company.id,
            }
        )

    @api.model
    def _debt_demo_customers(self):
        """{key: customer}, each with its full postal address and an external
        id (``debt_recovery.demo_partner_<key>``)."""
        home = self.env.company.country_id
        countries = {code: self.env.ref(f"base.{code}") for code in ("fr", "de")}
        vals_list = []
        for values in CUSTOMERS.values():
            country = countries[values["country"]] if "country" in values else home
            state = self.env["res.country.state"]
            if values.get("state"):
                state = state.search(
                    [("country_id", "=", country.id), ("code", "=", values["state"])], limit=1
                )
            contact = values.get("contact")
            vals_list.append(
                {
                    "name": values["name"],
                    "is_company": True,
                    "street": values["street"],
                    "street2": values.get("street2"),
                    "zip": values["zip"],
                    "city": values["city"],
                    "state_id": state.id,
                    "country_id": country.id,
                    "lang": values.get("lang", "en_US"),
                    "email": values["email"],
                    "phone": values["phone"],
                    "child_ids": contact
                    and [
                        Command.create(
                            {
                                "name": contact[0],
                                "email": contact[1],
                                "type": "invoice",
                                "lang": values.get("lang", "en_US"),
                            }
                        )
                    ],
                }
            )
        partners = self.env["res.partner"].create(vals_list)
        customers = dict(zip(CUSTOMERS, partners, strict=True))
        # sudo: external ids are the module's own bookkeeping.
        self.env["ir.model.data"].sudo()._update_xmlids(
            [
                {"xml_id": f"debt_recovery.demo_partner_{key}", "record": partner, "noupdate": True}
                for key, partner in customers.items()
            ]
        )
        return customers


class _Story:
    """The days of the story, one after the other."""

    def __init__(self, demo, system, customers, company, frozen):
        self.demo = demo
        # What people do, as Mitchell Admin; the crons as they run (OdooBot).
        self.env = demo.env
        self.system = system.env
        self.customers = customers
        self.company = company
        self.frozen = frozen
        self.invoices = {}
        self.eur = self.env.ref("base.EUR")
        self.mail_sink = _MailSink()
        self.collector = demo._debt_demo_collector()
        by_day = {}
        for key, (_customer, _amount, _eur, invoiced, _due) in INVOICES.items():
            by_day.setdefault(invoiced, []).append((self.post_invoice, key))
        for offset, action in self.events():
            by_day.setdefault(offset, []).append(action)
        self.by_day = by_day

    def events(self):
        """(days ago, (method, argument)) of what people do, beside the crons."""
        return [
            # Paid: Dune and Kestrel on time, Quarry and Helios late, Maple
            # after its reminder, Orbit's first one four weeks late.
            (49, (self.pay, ("dune_1", None))),
            (46, (self.pay, ("kestrel_2", None))),
            (80, (self.pay, ("quarry_1", None))),
            (74, (self.pay, ("helios_1", None))),
            (30, (self.pay, ("maple_1", None))),
            (61, (self.pay, ("orbit_0", None))),
            # The credit manager gives Ferro a credit limit (the others have none).
            (65, (self.credit_limit, ("ferro", 10000.0))),
            # Ferro pays part of its first invoice.
            (15, (self.pay, ("ferro_1", 2000.0))),
            # Helios returns goods: a credit note, left open (deducted from the claim).
            (20, (self.credit_note, ("helios", 300.0))),
            # Letters leave the day they are sent.
            *((offset, (self.print_letters, None)) for offset in range(START, -1, -1) if offset),
            # Lumen's reminder bounces.
            (10, (self.bounce, "lumen")),
            # Nordwind calls after its formal notice and agrees a plan;
            # it pays the first instalment.
            (
                21,
                (self.log_call, ("nordwind", "reached", "Asks to pay in three instalments.", 0)),
            ),
            (20, (self.payment_plan, "nordwind")),
            (13, (self.pay_instalment, "nordwind")),
            # Quarry disputes its invoice (part of the delivery was damaged).
            (14, (self.dispute, "quarry_2")),
            # Kestrel promises to pay everything after the final demand.
            (5, (self.log_call, ("kestrel", "promised", "Payment run next week.", 8))),
            # The accountant applies the other demo customers' credit notes
            # (Odoo's own demo data) to the invoices they credit.
            (1, (self.apply_credit_notes, None)),
            # Ferro says the balance is on its way.
            (
                1,
                (self.log_call, ("ferro", "reached", "The balance leaves with Friday's run.", 3)),
            ),
        ]

    def form(self, action):
        """The model of the form ``action`` opens, with the action's defaults."""
        return self.env[action["res_model"]].with_context(**action.get("context", {}))

    # === THE DAYS === #
    def day(self, date, offset):
        """One day: the crons at night, then what people do."""
        system = self.system
        self.at(date, time(2, 0))
        system["debt.recovery.case"]._cron_sync_cases()
        self.at(date, time(2, 30))
        system["debt.recovery.promise"]._cron_check_promises()
        self.at(date, time(2, 45))
        system["debt.recovery.plan"]._cron_check_plans()
        if offset:
            # Today's run is left to the cron (or to Run Escalation Now).
            self.at(date, time(3, 0))
            result = system["debt.recovery.escalation"]._run(self.company, send=False)
            if result.done:
                self.at(date, time(4, 0))
                system["debt.recovery.communication"]._cron_send_queued()
                self.deliver_emails()
        self.at(date, time(9, 0))
        self.assign_collector()
        self.at(date, time(10, 0))
        for method, argument in self.by_day.get(offset, []):
            method(argument)
            self.at(date, time(10, 0))

    def at(self, date, moment):
        """Move the clock on, once what was done before is written as its
        transaction would be at its commit (the tracking messages too, so
        that they carry the time of what they track)."""
        self.env.flush_all()
        self.env.cr.flush()
        self.frozen.move_to(datetime.combine(date, moment))

    def communication_count(self):
        return self.env["debt.recovery.communication"].search_count([])

    def assign_collector(self):
        """The credit manager gives each new case of the story to the
        collector, Marc Demo (who signs its letters)."""
        if not self.collector:
            return
        cases = self.env["debt.recovery.case"].search(
            [
                ("partner_id", "in", [customer.id for customer in self.customers.values()]),
                ("user_id", "=", False),
                ("is_closed", "=", False),
            ]
        )
        if cases:
            cases.write({"user_id": self.collector.id})

    def credit_limit(self, args):
        """A credit limit set by the Recovery Manager, with its reason."""
        customer, limit = args
        self.customers[customer]._debt_set_credit_limit(
            limit, "Agreed by the credit committee after the first orders."
        )

    # === INVOICES AND PAYMENTS === #
    def post_invoice(self, key):
        customer, amount, in_eur, invoiced, due = INVOICES[key]
        today = fields.Date.context_today(self.demo)
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customers[customer].id,
                "invoice_date": today,
                "invoice_date_due": today + timedelta(days=invoiced - due),
                "invoice_payment_term_id": False,
                "currency_id": (self.eur if in_eur else self.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Consulting and delivery, per the order",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
            }
        )
        move.action_post()
        self.invoices[key] = move

    def pay(self, args):
        key, amount = args
        self.register_payment(self.invoices[key], amount)

    def register_payment(self, invoice, amount=None):
        """A payment registered on the invoice (the Register Payment button)."""
        action = invoice.action_register_payment()
        wizard = self.form(action).create({"payment_date": fields.Date.context_today(self.demo)})
        if amount is not None:
            wizard.amount = amount
        wizard.action_create_payments()

    def apply_credit_notes(self, _argument):
        """Each open credit note of a customer outside the story applied to
        the overdue invoice of the same amount (the invoice's Outstanding
        credits, Add)."""
        today = fields.Date.context_today(self.demo)
        Move = self.env["account.move"]
        story = Move.browse()
        for invoice in self.invoices.values():
            story |= invoice
        invoices = Move.search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "=", "not_paid"),
                ("invoice_date_due", "<", today),
                ("id", "not in", story.ids),
            ]
        )
        for invoice in invoices:
            credit = self.env["account.move.line"].search(
                [
                    ("move_id.move_type", "=", "out_refund"),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("account_type", "=", "asset_receivable"),
                    ("partner_id", "=", invoice.commercial_partner_id.id),
                    ("currency_id", "=", invoice.currency_id.id),
                    ("amount_residual_currency", "=", -invoice.amount_residual),
                ],
                limit=1,
            )
            if credit:
                invoice.js_assign_outstanding_line(credit.id)

    def credit_note(self, args):
        customer, amount = args
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customers[customer].id,
                "invoice_date": fields.Date.context_today(self.demo),
                "currency_id": self.eur.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Goods returned (damaged packaging)",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
            }
        )
        refund.action_post()

    # === SENDING === #
    def deliver_emails(self):
        """The day's queued emails, sent by Odoo's mail queue to the sink."""
        mails = self.system["mail.mail"].search([("state", "=", "outgoing")])
        mails._send(smtp_session=self.mail_sink)

    def print_letters(self, _argument):
        """The day's letters printed (Letters to Print, Print Letters)."""
        letters = self.env["debt.recovery.communication"].search(
            [("letter_state", "=", "to_print")]
        )
        if letters:
            letters.action_print_letters()

    def bounce(self, customer):
        """The mail server returns the customer's last email: a delivery
        status notification, processed as incoming mail."""
        partner = self.customers[customer]
        comm = self.env["debt.recovery.communication"].search(
            [("partner_id", "=", partner.id), ("mail_message_id", "!=", False)],
            order="id desc",
            limit=1,
        )
        original = comm.mail_message_id
        company_email = self.company.email or "info@example.com"
        domain = company_email.split("@")[-1]
        raw = _dsn(
            {
                "From": f"Mail Delivery System <MAILER-DAEMON@{domain}>",
                "To": company_email,
                "Subject": "Undelivered Mail Returned to Sender",
                "Date": formatdate(),
                "Message-Id": make_msgid(domain=domain),
                "In-Reply-To": original.message_id,
                "References": original.message_id,
            },
            f"Your message could not be delivered to {partner.email}: the mail server "
            f"of {partner.email.split('@')[-1]} said: 550 5.1.1 User unknown.",
            partner.email,
            {
                "Message-Id": original.message_id,
                "From": company_email,
                "To": partner.email,
                "Subject": original.subject or "",
            },
        )
        # Incoming mail is processed by the system, as the mail gateway does.
        self.system["mail.thread"].message_process(False, raw)

    # === THE CREDIT CONTROLLER'S ACTIONS === #
    def case_of(self, customer):
        return self.env["debt.recovery.case"].search(
            [("partner_id", "=", self.customers[customer].id), ("is_closed", "=", False)],
            limit=1,
        )

    def log_call(self, args):
        """Log a Call on the case, with what the customer said and, in
        ``next_days`` days, what to check next (none with 0)."""
        customer, outcome, note, next_days = args
        case = self.case_of(customer)
        today = fields.Date.context_today(self.demo)
        action = case.action_log_call()
        wizard = self.form(action).create(
            {
                "outcome": outcome,
                "note": note,
                "contact_id": self.customers[customer]._debt_collections_contact().id,
                "next_action_date": today + timedelta(days=next_days) if next_days else False,
                "next_action_note": "Check that the payment arrived." if next_days else False,
            }
        )
        result = wizard.action_log()
        if outcome == "promised":
            # The call opens the promise form, filled with the overdue items.
            self.form(result).create({"date_promised": today + timedelta(days=7), "note": note})

    def payment_plan(self, customer):
        """Agree a payment plan (the case's Payment Plan wizard): three monthly
        instalments and a fee, activated at once."""
        case = self.case_of(customer)
        today = fields.Date.context_today(self.demo)
        action = case.action_open_plan_wizard()
        wizard = self.form(action).create(
            {
                "instalment_count": 3,
                "frequency": "monthly",
                "first_date": today + timedelta(days=7),
                "fee_amount": 30.0,
            }
        )
        wizard.action_create_plan()

    def pay_instalment(self, customer):
        plan = self.env["debt.recovery.plan"].search(
            [("partner_id", "=", self.customers[customer].id), ("state", "=", "active")], limit=1
        )
        first = plan.instalment_ids.sorted("date_due")[:1]
        invoice = plan.move_line_ids.move_id.filtered(lambda m: m != plan.fee_move_id)[:1]
        self.register_payment(invoice, first.amount)

    def dispute(self, key):
        """The customer disputes the invoice (the invoice's Dispute button)."""
        invoice = self.invoices[key]
        action = invoice.action_debt_open_dispute()
        self.form(action).create(
            {
                "reason_id": self.env.ref("debt_recovery.dispute_reason_quality").id,
                "note": "The customer says part of the delivery arrived damaged and "
                "sent photos; the warehouse is checking the delivery note.",
            }
        )


@contextlib.contextmanager
def _static_server(env):
    """Serve the addons' static files (the fonts of the letters) on a local
    port, and render the reports against it, for the time of the block."""

    def app(environ, start_response):
        # Odoo's own serving of static files (no database needed); nothing else.
        if http.root.get_static_file(environ.get("PATH_INFO", "")):
            return http.root(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b""]

    class QuietHandler(werkzeug.serving.WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            return

    # Threaded, with keep-alive: wkhtmltopdf asks for many fonts at once.
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # sudo: system parameters, put back as they were after the story. The
    # letters run no script that needs Odoo's default second of delay.
    params = env["ir.config_parameter"].sudo()
    previous = {key: params.get_param(key) for key in ("report.url", "report.print_delay")}
    params.set_param("report.url", f"http://127.0.0.1:{server.server_port}")
    params.set_param("report.print_delay", "500")
    try:
        yield
    finally:
        for key, value in previous.items():
            params.set_param(key, value or False)
        server.shutdown()
        server.server_close()


class _MailSink:
    """Stands in for the SMTP server: accepts every message, as a server
    would; what happens next (a bounce) comes back as incoming mail."""

    from_filter = False
    smtp_from = False

    def send_message(self, message, smtp_from, smtp_to_list):
        return {}

    def quit(self):
        return None


def _dsn(headers, text, recipient, original_headers):
    """A delivery status notification (RFC 3464) as bytes: the human text,
    the machine-readable status of ``recipient`` and the original headers."""
    boundary = "=_dr_demo_dsn"
    lines = [
        *(f"{name}: {value}" for name, value in headers.items()),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=utf-8",
        "",
        text,
        "",
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mail.example.com",
        "",
        f"Final-Recipient: rfc822; {recipient}",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown",
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
        *(f"{name}: {value}" for name, value in original_headers.items()),
        "",
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines)
