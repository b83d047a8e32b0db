import hashlib
from datetime import timedelta

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DebtRecoveryCommon
from .smtp_server import smtp_server


@tagged("post_install", "-at_install")
class TestCommunicationSend(DebtRecoveryCommon):
    """What leaves is true when it leaves, kept as it left, and one failure
    stops only itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Communication = cls.env["debt.recovery.communication"]
        cls.Dispute = cls.env["debt.recovery.dispute"]
        cls.policy = cls.env["debt.recovery.policy"]._get_company_defaults(cls.company)[cls.company]
        cls.friendly = cls.policy.level_ids.filtered(lambda lv: lv.days == 7)
        cls.customer.email = "ap@late-payer.example.com"
        cls.quality = cls.env.ref("debt_recovery.dispute_reason_quality")
        cls.paper = cls.env["res.partner"].create({"name": "Paper Only Ltd", "is_company": True})

    def _run(self, partners=None):
        return self.Communication._run_escalation(self.company, partners=partners)

    def _comm(self, partner=None):
        return self.Communication.search([("partner_id", "=", (partner or self.customer).id)])

    def _printed(self, action):
        """The PDF that ``action`` (of Print Letters) downloads."""
        url = action["params"]["url"]
        return self.env["ir.attachment"].browse(int(url.split("/")[3].split("?")[0]))

    def _receivable(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _dispute(self, invoice):
        return self.Dispute.with_user(self.user_collector).create(
            {"move_id": invoice.id, "reason_id": self.quality.id}
        )

    def _refund(self, partner, amount):
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Credit", "quantity": 1, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        return refund

    # --- true when it leaves: approval --- #
    def test_approval_drops_paid_and_disputed_items_and_updates_partly_paid(self):
        self.friendly.needs_approval = True
        paid = self._invoice(self.customer, 100.0, days_late=10)
        partly = self._invoice(self.customer, 200.0, days_late=12)
        disputed = self._invoice(self.customer, 300.0, days_late=15)
        kept = self._invoice(self.customer, 400.0, days_late=9)
        self._run()
        comm = self._comm()
        self.assertEqual(comm.state, "to_approve")
        self.assertEqual(comm.amount_total, 1000.0)

        self._pay(paid)
        self._pay(partly, amount=50.0)
        self._dispute(disputed)
        comm.with_user(self.user_collector).action_approve()

        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.line_ids.move_id, partly | kept, "Paid and disputed are dropped.")
        self.assertEqual(
            comm.line_ids.filtered(lambda line: line.move_id == partly).amount_residual_currency,
            150.0,
            "A partly paid item claims what it still owes.",
        )
        self.assertEqual(comm.amount_total, 550.0)
        self.assertFalse(
            self._receivable(paid).debt_communication_line_ids,
            "The level was never sent for the paid item.",
        )
        for invoice in (paid, disputed):
            self.assertNotIn(invoice.name, comm.sent_body)
        self.assertIn(partly.name, comm.sent_body)
        self.assertIn("550.00", comm.sent_body, "The email says the amount of the day.")
        self.assertTrue(
            any(paid.name in body for body in comm.message_ids.mapped("body")),
            "What was dropped is noted on the communication.",
        )

    def test_nothing_left_is_cancelled_with_its_reason(self):
        self.friendly.needs_approval = True
        invoice = self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comm()
        self._pay(invoice)
        action = comm.with_user(self.user_collector).action_approve()
        self.assertEqual(comm.state, "cancelled")
        self.assertIn(invoice.name, comm.cancel_reason)
        self.assertIn("paid", comm.cancel_reason)
        self.assertFalse(comm.mail_message_id, "Never sent.")
        self.assertFalse(comm.approved_by_id, "Cancelled at approval: nobody approved it out.")
        self.assertFalse(comm.line_ids)
        self.assertEqual(action["tag"], "display_notification", "The collector is told.")
        self.assertIn(comm.cancel_reason, action["params"]["message"])
        thread = comm.case_id or comm.partner_id
        self.assertTrue(
            any(comm.cancel_reason in body for body in thread.message_ids.mapped("body")),
            "The cancellation is logged where the contact is on record.",
        )
        with self.assertRaises(UserError):
            comm.action_approve()

    def test_credits_recomputed_at_sending(self):
        self.friendly.needs_approval = True
        self._invoice(self.customer, 500.0, days_late=10)
        self._run()
        comm = self._comm()
        self.assertEqual(comm.amount_total, 500.0)
        refund = self._refund(self.customer, 200.0)
        comm.action_approve()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.approved_by_id, self.env.user, "Sent: its approver is kept.")
        self.assertEqual(comm.credit_line_ids, self._receivable(refund))
        self.assertEqual(comm.amount_credit, 200.0)
        self.assertEqual(comm.amount_overdue, 500.0)
        self.assertEqual(comm.amount_total, 300.0, "The net amount is claimed.")
        self.assertIn(refund.name, comm.sent_body, "The email shows the credit deducted.")
        self.assertIn("300.00", comm.sent_body)

        other = self.env["res.partner"].create(
            {"name": "Credited Ltd", "is_company": True, "email": "c@example.com"}
        )
        self._invoice(other, 100.0, days_late=10)
        self._run(partners=other)
        covered = self._comm(other)
        self._refund(other, 150.0)
        covered.action_approve()
        self.assertEqual(covered.state, "cancelled", "The credits cover what it claimed.")
        self.assertIn("credits", covered.cancel_reason)

    def test_credits_labelled_by_kind_and_deducted_positive(self):
        self.friendly.needs_approval = True
        self._invoice(self.customer, 500.0, days_late=10)
        self._run()
        comm = self._comm()
        refund = self._refund(self.customer, 100.0)
        payment = self._unapplied_payment(self.customer, 50.0)
        comm.action_approve()
        self.assertEqual(comm.state, "sent")
        self.assertEqual(comm.amount_credit, 150.0)
        self.assertIn(f"Less credit note {refund.name}", comm.sent_body)
        self.assertIn("Less your payment of", comm.sent_body)
        self.assertNotIn(f"Less credit {payment.move_id.name}", comm.sent_body)
        letter = comm.letter_attachment_id.raw.decode()
        self.assertIn(f"Less credit note {refund.name}", letter)
        self.assertIn("Less your payment of", letter)
        self.assertNotIn(f"Less credit {payment.move_id.name}", letter)
        # The form shows what is deducted as the communication counts it: positive.
        self.assertEqual(sorted(comm.credit_line_ids.mapped("debt_credit_deducted")), [50.0, 100.0])
        self.assertEqual(
            sum(comm.credit_line_ids.mapped("debt_credit_deducted")), comm.amount_credit
        )

    def test_below_minimum_after_partial_payment_is_cancelled(self):
        self.friendly.write({"needs_approval": True, "min_amount": 100.0})
        invoice = self._invoice(self.customer, 150.0, days_late=10)
        self._run()
        comm = self._comm()
        self._pay(invoice, amount=100.0)
        comm.action_approve()
        self.assertEqual(comm.state, "cancelled")
        self.assertIn("minimum", comm.cancel_reason)
        self.assertEqual(comm.line_ids.amount_residual_currency, 50.0)

    # --- true when it leaves: printing; kept as it left --- #
    def test_letter_checked_at_printing_then_kept_as_printed(self):
        paid = self._invoice(self.paper, 100.0, days_late=10)
        disputed = self._invoice(self.paper, 300.0, days_late=11)
        open_invoice = self._invoice(self.paper, 200.0, days_late=12)
        self._run(partners=self.paper)
        letter = self._comm(self.paper)
        self.assertTrue(letter.channel_letter and not letter.channel_email)
        self.assertEqual(letter.letter_state, "to_print")
        self.assertFalse(letter.letter_attachment_id, "Rendered when it is printed.")

        self._pay(paid)
        self._dispute(disputed)
        letter.with_user(self.user_collector).action_print_letters()
        self.assertEqual(letter.letter_state, "printed")
        self.assertEqual(letter.line_ids.move_id, open_invoice)
        document = letter.letter_attachment_id
        self.assertEqual((document.res_model, document.res_id), (letter._name, letter.id))
        self.assertEqual(letter.letter_checksum, document.checksum)
        self.assertEqual(letter.letter_checksum, hashlib.sha1(document.raw).hexdigest())
        kept = document.raw
        self.assertIn(open_invoice.name.encode(), kept)
        self.assertNotIn(paid.name.encode(), kept)
        claimed, _sep, apart = kept.partition(b"Items under dispute")
        self.assertNotIn(disputed.name.encode(), claimed)
        self.assertIn(disputed.name.encode(), apart, "Shown apart, not claimed.")

        # Paid later: what was printed stays what it was.
        self._pay(open_invoice)
        letter.invalidate_recordset()
        self.assertEqual(letter.letter_attachment_id.raw, kept)
        self.assertEqual(letter.letter_attachment_id.checksum, letter.letter_checksum)
        self.assertEqual(letter.line_ids.move_id, open_invoice)
        attachments = self.env["ir.attachment"].search_count(
            [("res_model", "=", letter._name), ("res_id", "=", letter.id)]
        )
        action = letter.action_print_letters()
        reprint = self._printed(action)
        self.assertTrue(reprint.raw.startswith(b"DUPLICATE"), "Marked as a duplicate.")
        self.assertIn(kept, reprint.raw, "The copy kept, never a new rendering.")
        self.assertEqual(
            self.env["ir.attachment"].search_count(
                [("res_model", "=", letter._name), ("res_id", "=", letter.id)]
            ),
            attachments,
        )

    def test_emailed_letter_checked_at_its_first_print(self):
        self.friendly.channel_letter = True
        paid = self._invoice(self.customer, 100.0, days_late=10)
        partly = self._invoice(self.customer, 300.0, days_late=11)
        self._run()
        comm = self._comm()
        self.assertEqual((comm.state, comm.letter_state), ("sent", "to_print"))
        emailed = comm.email_attachment_id
        self.assertTrue(emailed)
        self.assertEqual(comm.letter_attachment_id, emailed)
        self.assertIn(emailed, comm.mail_message_id.attachment_ids)
        emailed_raw = emailed.raw
        self.assertIn(paid.name.encode(), emailed_raw)

        self._pay(paid)
        self._pay(partly, amount=100.0)
        comm.action_print_letters()
        self.assertEqual(comm.letter_state, "printed")
        self.assertEqual(comm.state, "sent", "The email stays sent.")
        self.assertEqual(comm.line_ids.move_id, partly, "The paid invoice is not claimed.")
        self.assertEqual(comm.line_ids.amount_residual_currency, 200.0)
        letter = comm.letter_attachment_id
        self.assertNotEqual(letter, emailed, "Rendered anew at printing, kept apart.")
        self.assertEqual(comm.letter_checksum, letter.checksum)
        self.assertEqual(comm.email_attachment_id, emailed)
        self.assertEqual(emailed.raw, emailed_raw, "The email's PDF stays as it left.")
        self.assertEqual(comm.email_checksum, emailed.checksum)
        self.assertNotIn(paid.name.encode(), letter.raw)
        self.assertIn(partly.name.encode(), letter.raw)
        self.assertTrue(
            any("since the email" in body for body in comm.message_ids.mapped("body")),
            "The chatter says what changed since the email.",
        )
        # A reprint is the stored letter, marked DUPLICATE.
        action = comm.action_print_letters()
        reprint = self._printed(action)
        self.assertTrue(reprint.raw.startswith(b"DUPLICATE"))
        self.assertIn(letter.raw, reprint.raw)

    def test_emailed_letter_unchanged_prints_the_stored_copy(self):
        self.friendly.channel_letter = True
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comm()
        emailed = comm.email_attachment_id
        comm.action_mark_printed()
        self.assertEqual(comm.letter_state, "printed")
        self.assertEqual(comm.letter_attachment_id, emailed, "Nothing changed: the same copy.")

    def test_emailed_letter_with_nothing_left_is_not_printed(self):
        self.friendly.channel_letter = True
        invoice = self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comm()
        self._pay(invoice)
        action = comm.action_print_letters()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("not printed", action["params"]["message"])
        self.assertEqual(comm.state, "sent", "The email stays sent.")
        self.assertEqual(comm.letter_state, "none")
        self.assertIn(invoice.name, comm.cancel_reason)
        self.assertTrue(comm.line_ids, "The email's claim stays on record.")

    def test_letter_alone_leaves_when_printed(self):
        self._invoice(self.paper, 100.0, days_late=10)
        self._run(partners=self.paper)
        letter = self._comm(self.paper)
        self.assertEqual((letter.state, letter.letter_state), ("to_print", "to_print"))
        self.assertFalse(letter.date_sent, "Not sent before it is printed.")
        self.assertFalse(
            any("(letter)" in body for body in self.paper.message_ids.mapped("body")),
            "Not logged on the customer before it left.",
        )
        self.Communication._cron_send_queued()
        self.assertEqual(letter.state, "to_print", "The send cron leaves it alone.")
        letter.action_print_letters()
        self.assertEqual((letter.state, letter.letter_state), ("sent", "printed"))
        self.assertEqual(letter.date_sent, self.today)
        self.assertTrue(any("(letter)" in body for body in self.paper.message_ids.mapped("body")))

    def test_letter_with_nothing_left_is_not_printed(self):
        invoice = self._invoice(self.paper, 100.0, days_late=10)
        self._run(partners=self.paper)
        letter = self._comm(self.paper)
        self._pay(invoice)
        action = letter.action_print_letters()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(letter.state, "cancelled")
        self.assertFalse(letter.date_sent, "It never left.")
        self.assertFalse(
            any("(letter)" in body for body in self.paper.message_ids.mapped("body")),
            "Never logged as sent.",
        )
        self.assertNotEqual(letter.letter_state, "printed")
        self.assertFalse(letter.letter_attachment_id)
        with self.assertRaises(UserError):
            letter.action_mark_printed()

    def test_email_keeps_its_body_and_attaches_the_kept_pdf(self):
        invoice = self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comm()
        self.assertEqual(comm.state, "sent")
        self.assertIn(invoice.name, comm.sent_body)
        self.assertEqual(comm.sent_checksum, hashlib.sha1(comm.sent_body.encode()).hexdigest())
        document = comm.letter_attachment_id
        self.assertTrue(document, "The friendly reminder's letter went with the email.")
        self.assertIn(document, comm.mail_message_id.attachment_ids, "The same attachment.")
        self.assertEqual((document.res_model, document.res_id), (comm._name, comm.id))
        kept = document.raw
        self._pay(invoice)
        self.assertEqual(comm.letter_attachment_id.raw, kept)
        self.assertIn(invoice.name, comm.sent_body)

    def test_letter_wording_due_today_and_history(self):
        """Due today is not past its due date; earlier reminders only when sent."""
        report = self.env.ref("debt_recovery.action_report_recovery_letter")
        overdue = self._invoice(self.customer, 100.0, days_late=10)
        due_today = self._invoice(self.customer, 70.0, days_late=0)
        self._run()
        comm = self._comm()
        self.assertEqual(comm.line_ids.move_id, overdue | due_today)
        html = self.env["ir.actions.report"]._render_qweb_html(report, comm.ids)[0].decode()
        past, _sep, rest = html.partition("Invoice not yet overdue")
        self.assertIn(overdue.name, past)
        self.assertNotIn(due_today.name, past, "Due today is not past its due date.")
        self.assertIn(due_today.name, rest)
        self.assertIn("Due today", rest)
        self.assertNotIn("previous reminder", html.lower(), "None was sent before.")
        self.assertFalse(comm.previous_reminder_ids)

        self._pay(overdue | due_today)
        self.friendly.needs_approval = True
        with freeze_time(self.today + timedelta(days=10)):
            later = self._invoice(self.customer, 80.0, days_late=-2)
            self._run()
            second = self._comm() - comm
            self.assertEqual(second.line_ids.move_id, later)
            self.assertEqual(second.previous_reminder_ids, comm)
            second.action_approve()
        self.assertIn("Our previous reminders:", second.sent_body)
        history = second.sent_body.partition("Our previous reminders:")[2].partition("</p>")[0]
        self.assertIn(self.friendly.letter_title, history)
        self.assertIn(comm.date_sent.strftime("%m/%d/%Y"), history)

    def test_courtesy_reminder_is_no_earlier_reminder(self):
        """A courtesy reminder (before the due date) is not named as an
        earlier reminder of a late payment."""
        invoice = self._invoice(self.customer, 100.0, days_late=-2)
        self._run()
        courtesy = self._comm()
        self.assertEqual(courtesy.state, "sent")
        self.assertLessEqual(courtesy.level_id.days, 0)
        with freeze_time(self.today + timedelta(days=10)):
            self._run()
            reminder = self._comm() - courtesy
            self.assertEqual(reminder.line_ids.move_id, invoice)
            self.assertGreater(reminder.level_id.days, 0)
            self.assertFalse(reminder.previous_reminder_ids)

    # --- one failure stops only itself --- #
    def _broken_policy(self):
        broken = self.env["mail.template"].create(
            {
                "name": "Broken reminder",
                "model_id": self.env["ir.model"]._get_id(self.Communication._name),
                "subject": "Reminder",
                "body_html": '<p><t t-out="object.no_such_field.name"/></p>',
            }
        )
        return self.env["debt.recovery.policy"].create(
            {
                "name": "Broken",
                "company_id": self.company.id,
                "level_ids": [
                    Command.create(
                        {
                            "name": "Broken Reminder",
                            "days": 7,
                            "channel_email": True,
                            "mail_template_id": broken.id,
                            "report_id": self.friendly.report_id.id,
                        }
                    )
                ],
            }
        )

    def test_failing_template_fails_only_its_own_and_retry_sends_it(self):
        broken_policy = self._broken_policy()
        others = self.env["res.partner"].create(
            [
                {"name": f"Fine {index}", "is_company": True, "email": f"f{index}@example.com"}
                for index in range(3)
            ]
        )
        victim = self.env["res.partner"].create(
            {
                "name": "Broken Template Ltd",
                "is_company": True,
                "email": "b@example.com",
                "debt_policy_id": broken_policy.id,
            }
        )
        for partner in others | victim:
            self._invoice(partner, 100.0, days_late=10)
        self.Communication._run_escalation(self.company, partners=others | victim, send=False)
        comms = self.Communication.search([("partner_id", "in", (others | victim).ids)])
        self.assertEqual(set(comms.mapped("state")), {"queued"})

        self.Communication._cron_send_queued()

        failed = comms.filtered(lambda c: c.partner_id == victim)
        self.assertEqual(failed.state, "failed")
        self.assertTrue(failed.failure_reason)
        self.assertFalse(failed.mail_message_id)
        self.assertFalse(failed.letter_attachment_id, "Its PDF never left: not kept.")
        self.assertEqual(set((comms - failed).mapped("state")), {"sent"}, "The others go out.")
        self.assertTrue(all((comms - failed).mapped("letter_attachment_id")))
        self.assertTrue(all((comms - failed).mapped("mail_message_id")))
        self.assertEqual(
            self.Communication.search_count([("state", "=", "queued")]),
            0,
            "Nothing left for the cron: the failed one is not retried silently.",
        )
        with self.assertRaises(UserError):
            (comms - failed).action_retry()

        broken_policy.level_ids.mail_template_id = self.friendly.mail_template_id
        failed.with_user(self.user_collector).action_retry()
        self.assertEqual(failed.state, "sent")
        self.assertFalse(failed.failure_reason)
        self.assertTrue(failed.mail_message_id)
        self.assertIn(failed.letter_attachment_id, failed.mail_message_id.attachment_ids)

    # --- statuses that tell what became of it --- #
    def _mail_of(self, comm):
        return (
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", comm.mail_message_id.id)])
        )

    def _process_mail_queue(self, comm):
        self.env["mail.mail"].sudo().process_email_queue(ids=self._mail_of(comm).ids)

    def test_email_is_queued_until_the_mail_queue_sends_it(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comm()
        self.assertEqual(comm.state, "sent", "Sent as the workflow goes: the case moved up.")
        self.assertEqual(comm.date_sent, self.today)
        self.assertEqual(self._mail_of(comm).state, "outgoing")
        self.assertEqual(comm.status, "queued", "Its email still waits in the mail queue.")
        self.assertEqual(
            self.Communication.search([("status", "=", "queued"), ("id", "=", comm.id)]), comm
        )

        with smtp_server(self.env) as server:
            self._process_mail_queue(comm)
        self.assertEqual([message["to"] for message in server.messages], [[self.customer.email]])
        self.assertEqual(
            comm.mail_message_id.notification_ids.mapped("notification_status"), ["sent"]
        )
        self.assertEqual(comm.status, "sent")
        self.assertEqual(comm.state, "sent")

    def test_email_refused_by_the_mail_server_shows_bounced(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comm()
        self.assertEqual(comm.status, "queued")
        with smtp_server(self.env, unknown=[self.customer.email]) as server:
            self._process_mail_queue(comm)
        self.assertFalse(server.messages)
        self.assertEqual(
            comm.mail_message_id.notification_ids.mapped("notification_status"), ["exception"]
        )
        self.assertEqual(comm.status, "bounced")
        self.assertEqual(comm.state, "sent", "The workflow does not go back.")

    def test_bounce_from_the_customer_server_shows_bounced(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        comm = self._comm()
        with smtp_server(self.env):
            self._process_mail_queue(comm)
        self.assertEqual(comm.status, "sent")
        # The customer's mail server returns it (a delivery status notification).
        message_id = comm.mail_message_id.message_id
        dsn = f"""From: Mail Delivery System <MAILER-DAEMON@mx.late-payer.example.com>
To: {self.company.email or "billing@company.example.com"}
Subject: Undelivered Mail Returned to Sender
Message-Id: <dsn-{comm.id}@mx.late-payer.example.com>
In-Reply-To: {message_id}
References: {message_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"

--DSN
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered: the mailbox does not exist.

--DSN
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.late-payer.example.com

Final-Recipient: rfc822; {self.customer.email}
Action: failed
Status: 5.1.1

--DSN
Content-Type: message/rfc822

Message-Id: {message_id}
From: {self.company.email or "billing@company.example.com"}
To: {self.customer.email}
Subject: Reminder

Reminder.

--DSN--
"""
        self.env["mail.thread"].sudo().message_process(False, dsn)
        self.assertEqual(
            comm.mail_message_id.notification_ids.mapped("notification_status"), ["bounce"]
        )
        self.assertEqual(comm.status, "bounced")
        self.assertEqual(
            self.Communication.search([("status", "=", "bounced"), ("id", "=", comm.id)]), comm
        )

    def test_letter_statuses_to_print_then_printed(self):
        self._invoice(self.paper, 100.0, days_late=10)
        self._run(partners=self.paper)
        letter = self._comm(self.paper)
        self.assertEqual(letter.status, "to_print")
        letter.with_user(self.user_collector).action_print_letters()
        self.assertEqual(letter.status, "printed")

    def test_print_from_the_form_reloads_and_reprints_the_kept_copy(self):
        self._invoice(self.paper, 100.0, days_late=10)
        self._run(partners=self.paper)
        letter = self._comm(self.paper).with_user(self.user_collector)
        action = letter.action_print_letters()
        # Downloaded (no popup), then the action closes: the view reloads
        # and shows the letter printed.
        self.assertEqual(
            (action["type"], action["tag"]), ("ir.actions.client", "debt_recovery_download")
        )
        self.assertEqual(letter.status, "printed")
        kept = letter.letter_attachment_id.raw
        again = letter.action_print_letters()
        reprint = self._printed(again)
        self.assertTrue(reprint.raw.startswith(b"DUPLICATE"), "A reprint is marked as a duplicate.")
        self.assertIn(kept, reprint.raw, "The copy kept, never a new rendering.")
        self.assertEqual(letter.status, "printed")


@tagged("post_install", "-at_install")
class TestSendCommitted(DebtRecoveryCommon):
    """The send cron on committed data, each step in its own cursor (its own
    database session, as the cron worker runs it)."""

    def _committed_data(self):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            env["debt.recovery.policy"]._get_company_defaults(company)
            model_id = env["ir.model"]._get_id("debt.recovery.communication")
            templates = env["mail.template"].create(
                [
                    {
                        "name": "Committed plain reminder",
                        "model_id": model_id,
                        "subject": "Reminder",
                        "body_html": '<p>Due: <t t-out="object.amount_total"/></p>',
                    },
                    {
                        "name": "Committed broken reminder",
                        "model_id": model_id,
                        "subject": "Reminder",
                        "body_html": '<p><t t-out="object.no_such_field.name"/></p>',
                    },
                ]
            )
            # Email only, no PDF: nothing here needs wkhtmltopdf.
            policies = env["debt.recovery.policy"].create(
                [
                    {
                        "name": f"Committed {template.name}",
                        "company_id": company.id,
                        "level_ids": [
                            Command.create(
                                {
                                    "name": template.name,
                                    "days": 7,
                                    "channel_email": True,
                                    "mail_template_id": template.id,
                                }
                            )
                        ],
                    }
                    for template in templates
                ]
            )
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"Committed {index}",
                        "is_company": True,
                        "email": f"committed{index}@example.com",
                        "debt_policy_id": policies[index == 3].id,
                    }
                    for index in range(4)
                ]
            )
            moves = (
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "partner_id": partner.id,
                            "invoice_date": self.today - timedelta(days=40),
                            "invoice_date_due": self.today - timedelta(days=10),
                            "invoice_payment_term_id": False,
                            "invoice_line_ids": [
                                Command.create({"name": "Work", "quantity": 1, "price_unit": 80.0})
                            ],
                        }
                        for partner in partners
                    ]
                )
            )
            moves.action_post()
            env["debt.recovery.communication"]._run_escalation(
                company, partners=partners, send=False
            )
            return partners.ids, moves.ids, policies.ids, templates.ids

    def _states(self, partner_ids):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            comms = env["debt.recovery.communication"].search(
                [("partner_id", "in", partner_ids)], order="partner_id"
            )
            return [
                (c.partner_id.id, c.state, c.failure_reason, bool(c.mail_message_id)) for c in comms
            ]

    def _cleanup(self, partner_ids, move_ids, policy_ids, template_ids):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            comms = env["debt.recovery.communication"].search([("partner_id", "in", partner_ids)])
            env["mail.mail"].search([("mail_message_id", "in", comms.mail_message_id.ids)]).unlink()
            # Sent and failed communications are records the model keeps:
            # removed here by SQL (their lines go with them).
            cr.execute(
                "DELETE FROM debt_recovery_communication WHERE partner_id IN %s",
                [tuple(partner_ids)],
            )
            moves = env["account.move"].browse(move_ids)
            moves.button_draft()
            moves.unlink()
            env["debt.recovery.case"].search([("partner_id", "in", partner_ids)]).unlink()
            partners = env["res.partner"].browse(partner_ids)
            partners.write({"debt_policy_id": False, "active": False})
            env["debt.recovery.policy"].browse(policy_ids).unlink()
            env["mail.template"].browse(template_ids).unlink()

    def test_two_send_workers_share_the_queue(self):
        """A worker sending a batch holds it: the second send cron (or a run
        started by hand) takes the others at once, and each leaves once."""
        partner_ids, *records = self._committed_data()
        try:
            with self.env.registry.cursor() as first_cr:
                env = api.Environment(first_cr, SUPERUSER_ID, {})
                held = env["debt.recovery.communication"].search(
                    [("partner_id", "in", partner_ids[:2])]
                )
                # The first worker's batch, locked as its transaction runs.
                first_cr.execute(
                    "SELECT id FROM debt_recovery_communication WHERE id IN %s FOR UPDATE",
                    [tuple(held.ids)],
                )
                with self.env.registry.cursor() as second_cr:
                    # Waiting for the first worker would be a failure, not a hang.
                    second_cr.execute("SET LOCAL lock_timeout = '5s'")
                    api.Environment(second_cr, SUPERUSER_ID, {})[
                        "debt.recovery.communication"
                    ]._cron_send_queued()
                first_cr.rollback()
            states = dict((row[0], row[1]) for row in self._states(partner_ids))
            self.assertEqual([states[pid] for pid in partner_ids[:2]], ["queued", "queued"])
            self.assertEqual(states[partner_ids[2]], "sent")
            self.assertEqual(states[partner_ids[3]], "failed", "Its broken template.")
            with self.env.registry.cursor() as cron_cr:
                api.Environment(cron_cr, SUPERUSER_ID, {})[
                    "debt.recovery.communication"
                ]._cron_send_queued()
            after = self._states(partner_ids)
            self.assertEqual([row[1] for row in after], ["sent", "sent", "sent", "failed"])
            with self.env.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                comms = env["debt.recovery.communication"].search(
                    [("partner_id", "in", partner_ids[:3])]
                )
                mails = env["mail.message"].search_count(
                    [("id", "in", comms.mail_message_id.ids), ("message_type", "=", "comment")]
                )
                self.assertEqual(mails, 3, "One email each, none twice.")
        finally:
            self._cleanup(partner_ids, *records)

    def test_failing_template_fails_only_its_own_in_the_cron(self):
        partner_ids, *records = self._committed_data()
        try:
            queued = self._states(partner_ids)
            self.assertEqual([state for _p, state, _r, _m in queued], ["queued"] * 4)
            with self.env.registry.cursor() as cron_cr:
                api.Environment(cron_cr, SUPERUSER_ID, {})[
                    "debt.recovery.communication"
                ]._cron_send_queued()
            states = self._states(partner_ids)
            broken = [row for row in states if row[0] == partner_ids[3]]
            fine = [row for row in states if row[0] != partner_ids[3]]
            self.assertEqual([row[1:] for row in fine], [("sent", False, True)] * 3)
            self.assertEqual(broken[0][1], "failed")
            self.assertTrue(broken[0][2], "The failure says why.")
            self.assertFalse(broken[0][3], "No email left for it.")
            # The next run of the cron finds nothing to send: the failed one
            # waits for a collector's retry, it is not retried silently.
            with self.env.registry.cursor() as cron_cr:
                Communication = api.Environment(cron_cr, SUPERUSER_ID, {})[
                    "debt.recovery.communication"
                ]
                self.assertEqual(Communication.search_count([("state", "=", "queued")]), 0)
                Communication._cron_send_queued()
            self.assertEqual(self._states(partner_ids), states)
        finally:
            self._cleanup(partner_ids, *records)
