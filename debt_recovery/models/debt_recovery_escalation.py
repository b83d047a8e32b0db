"""The daily escalation: which customer receives which level today, and why.

The escalation is a concern of its own (as ``account.move.send`` is beside
``account.move``): it selects the items reaching a new level, nets them
against the customer's open credits, paces the customer's communications,
and creates the communications a batch of customers at a time.
"""

import logging
from collections import defaultdict, namedtuple
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from odoo import api, fields, models, modules, tools
from odoo.tools import SQL, float_compare, float_round

from ..tools import bulk_create
from ..tools.limitation import last_due_date_time_barred
from .debt_recovery_stage import LADDER_KINDS

_logger = logging.getLogger(__name__)

ESCALATION_LOCK = "debt_recovery_escalation"
BATCH_SIZE = 500

# An item reaching a new level today, as plain values (not a record).
EscalationItem = namedtuple(
    "EscalationItem",
    "line_id customer_id company_id currency_id date_maturity "
    "amount_residual amount_residual_currency level",
)
# One row of the items query (see ``_select_items``).
ItemRow = namedtuple(
    "ItemRow",
    "line_id customer_id company_id currency_id date_maturity amount_residual "
    "amount_residual_currency invoice_policy_id level_id level_date "
    "customer_policy_id do_not_contact quiet_until",
)
# A customer's open credits in one company and currency.
Credits = namedtuple("Credits", "line_ids amount_currency amount")
NO_CREDITS = Credits((), 0.0, 0.0)
# What the escalation did: customers done and left (another run holds the lock: left).
RunResult = namedtuple("RunResult", "done remaining locked")


class LevelFacts(NamedTuple):
    """What a draft reads of its level, read once a run."""

    rank: tuple
    net_credits: bool
    min_amount: float
    email: bool
    letter: bool
    phone: bool


@dataclass
class Draft:
    """A communication to create: one customer, company and currency."""

    customer: models.BaseModel
    customer_name: str
    company: models.BaseModel
    currency: models.BaseModel
    level: models.BaseModel
    contact: models.BaseModel
    email: bool
    letter: bool
    phone: bool
    items: list
    credits: Credits = NO_CREDITS
    amount_overdue: float = 0.0
    amount_credit: float = 0.0
    amount: float = 0.0
    # What its letter states (legal-notice levels): interest, compensation.
    amount_interest: float = 0.0
    amount_compensation: float = 0.0


class DebtRecoveryEscalation(models.AbstractModel):
    _name = "debt.recovery.escalation"
    _description = "Recovery Escalation"

    # === ENTRY POINTS === #
    @api.model
    def _cron_escalate(self):
        """Daily: every company's items reaching a new level get their communication.

        The plan is made once, after taking the lock; the communications are
        then created and committed a batch of customers at a time under that
        same lock, so that a run killed in the middle keeps what it did and the
        next run resumes. A run that finds the lock taken did nothing: it comes
        back a minute later instead of reporting itself done.
        """
        companies = self.env["res.company"].search([])
        result = self._run(companies, send=False, batch_size=BATCH_SIZE)
        cron = self.env["ir.cron"]
        if result.locked:
            _logger.info("Recovery escalation: another run holds the lock; retrying in 1 minute.")
            self.env.ref("debt_recovery.ir_cron_debt_recovery_escalate")._trigger(
                fields.Datetime.now() + timedelta(minutes=1)
            )
            cron._notify_progress(done=0, remaining=1)
            return
        cron._notify_progress(done=result.done, remaining=result.remaining)
        for xmlid in ("ir_cron_debt_recovery_send", "ir_cron_debt_recovery_send_2"):
            send_cron = self.env.ref(f"debt_recovery.{xmlid}", raise_if_not_found=False)
            if send_cron:
                send_cron._trigger()

    @api.model
    def _preview(self, companies, partners=None, limit=None):
        """Dry run: the communications a run would create now (``[Draft]``);
        nothing is written."""
        return self._plan(fields.Date.context_today(self), companies, partners, limit)[0]

    @api.model
    def _run(self, companies, partners=None, limit=None, send=True, batch_size=None):
        """Create today's communications.

        Exactly once: a session-level advisory lock keeps two runs apart for
        the whole run, across its batch commits, and a unique (item, level)
        constraint refuses any second communication of a level for an item,
        whatever happens.

        With ``send`` False (the daily cron), communications are queued and
        the send cron sends them. With ``batch_size`` (the daily cron), each
        batch of that many customers is committed before the next one (outside
        tests).

        :return: ``RunResult(done, remaining, locked)`` in customers (and
                 currencies); ``locked`` when another run holds the lock
                 (nothing was done).
        """
        if not self._try_lock():
            return RunResult(0, 0, True)
        try:
            # The plan is read after taking the lock: a fresh snapshot.
            today = fields.Date.context_today(self)
            drafts, left = self._plan(today, companies, partners, limit)
            if not drafts:
                return RunResult(0, left, False)
            # The cases, looked up (and the missing ones opened) once for the run.
            case_of = (
                self.env["debt.recovery.case"]
                .sudo()
                ._open_cases_of([(draft.customer, draft.company) for draft in drafts])
            )
            done = 0
            step = batch_size or len(drafts)
            for start in range(0, len(drafts), step):
                if start and self._can_commit():
                    # Each batch of the daily cron is kept, as the docstring says.
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                batch = drafts[start : start + step]
                self._create_communications(batch, today, send=send, case_of=case_of)
                done += len(batch)
            return RunResult(done, left, False)
        finally:
            self._unlock()

    # === LOCK AND BATCHES === #
    def _try_lock(self):
        """Take the escalation's session lock (held across commits); False if
        another run holds it."""
        return self.env.execute_query(
            SQL("SELECT pg_try_advisory_lock(hashtext(%s))", ESCALATION_LOCK)
        )[0][0]

    def _unlock(self):
        self.env.execute_query(SQL("SELECT pg_advisory_unlock(hashtext(%s))", ESCALATION_LOCK))

    @api.model
    def _can_commit(self):
        """Batches are committed in production, never inside tests (Odoo's own
        idiom, as account's auto-post cron)."""
        return not tools.config["test_enable"] and not modules.module.current_test

    # === PLANNING === #
    @api.model
    def _plan(self, today, companies, partners=None, limit=None):
        """``([Draft], customer/currency groups left beyond ``limit``)`` of
        today; a group with nothing to claim (net of credits, below the
        tolerance) is no draft and no work left."""
        targets = self._select_targets(today, companies, partners)
        groups = defaultdict(list)
        for item in targets:
            groups[item.customer_id, item.company_id, item.currency_id].append(item)
        keys = sorted(groups, key=lambda k: (k[1], k[0], k[2]))
        todo = keys[:limit] if limit else keys
        left = len(keys) - len(todo)
        if not todo:
            return [], left
        credits_of = self._credits_by_key(todo)
        # The customers, companies and currencies, browsed together (prefetch).
        Partner, Company, Currency = (
            self.env["res.partner"],
            self.env["res.company"],
            self.env["res.currency"],
        )
        customers = Partner.browse({key[0] for key in todo})
        # Only what the communications need (a partner has a hundred columns).
        customers.fetch(["complete_name", "email", "child_ids"])
        customers.child_ids.fetch(["type", "email"])
        companies_of = {c.id: c for c in Company.browse({key[1] for key in todo})}
        currencies_of = {c.id: c for c in Currency.browse({key[2] for key in todo})}
        customer_of = {c.id: c for c in customers}
        # What the drafts read of their levels, currencies and contacts, read
        # once (thousands of drafts, a handful of levels and currencies).
        levels = self.env["debt.recovery.level"].browse(
            {item.level.id for key in todo for item in groups[key]}
        )
        facts = {
            level: LevelFacts(
                rank=(level.days, level.sequence),
                net_credits=level.policy_id.net_credits,
                min_amount=level.min_amount,
                email=level.channel_email,
                letter=level.channel_letter,
                phone=level.channel_phone,
            )
            for level in levels
        }
        rounding = {
            currency: currency.rounding
            for currency in {
                *currencies_of.values(),
                *(c.currency_id for c in companies_of.values()),
            }
        }
        drafts = []
        for key in todo:
            customer_id, company_id, currency_id = key
            draft = self._prepare_draft(
                customer_of[customer_id],
                companies_of[company_id],
                currencies_of[currency_id],
                groups[key],
                credits_of.get(key, NO_CREDITS),
                facts=facts,
                rounding=rounding,
            )
            if draft:
                drafts.append(draft)
        self._add_late_payment(drafts, today)
        return drafts, left

    @api.model
    def _prepare_draft(
        self, customer, company, currency, items, credits, facts=None, rounding=None
    ):
        """What to send one customer in one currency; None when the net amount
        claimed is nothing or below the level's tolerance. ``facts``
        ({level: LevelFacts}) and ``rounding`` ({currency: rounding}) are
        what ``_plan`` read once for all drafts."""
        if facts is None:
            facts = {
                item.level: LevelFacts(
                    rank=(item.level.days, item.level.sequence),
                    net_credits=item.level.policy_id.net_credits,
                    min_amount=item.level.min_amount,
                    email=item.level.channel_email,
                    letter=item.level.channel_letter,
                    phone=item.level.channel_phone,
                )
                for item in items
            }
        if rounding is None:
            rounding = {
                currency: currency.rounding,
                company.currency_id: company.currency_id.rounding,
            }
        level = max((item.level for item in items), key=lambda lv: facts[lv].rank)
        fact = facts[level]
        if not fact.net_credits:
            credits = NO_CREDITS
        precision = rounding[currency]
        overdue = float_round(
            sum(item.amount_residual_currency for item in items), precision_rounding=precision
        )
        overdue_company = sum(item.amount_residual for item in items)
        credit = float_round(min(credits.amount_currency, overdue), precision_rounding=precision)
        net = overdue - credit
        net_company = overdue_company - min(credits.amount, overdue_company)
        if float_compare(net, 0.0, precision_rounding=precision) <= 0:
            return None
        if (
            float_compare(
                net_company, fact.min_amount, precision_rounding=rounding[company.currency_id]
            )
            < 0
        ):
            return None
        contact = customer._debt_collections_contact()
        email = fact.email and bool(contact.email)
        return Draft(
            customer=customer,
            # The customer's display name without its per-record compute (a
            # commercial partner's is its stored complete name), read now:
            # the commit after each batch empties the cache.
            customer_name=customer.complete_name or customer.display_name,
            company=company,
            currency=currency,
            level=level,
            contact=contact,
            email=email,
            letter=fact.letter or (fact.email and not contact.email),
            phone=fact.phone,
            items=items,
            credits=credits if credit else NO_CREDITS,
            amount_overdue=overdue,
            amount_credit=credit,
            amount=net,
        )

    # === TARGETS === #
    @api.model
    def _item_domain(self):
        """Items the escalation may work on: open, owed, not paused by a
        dispute, a promise, a plan or a collection agency, not flagged "no reminder" on their
        invoice or their customer, and not in a case held by its stage."""
        AccountMoveLine = self.env["account.move.line"]
        return [
            *AccountMoveLine._debt_open_domain(),
            ("amount_residual", ">", 0),
            ("debt_dispute_id", "=", False),
            ("debt_promise_id", "=", False),
            ("debt_plan_id", "=", False),
            ("debt_legal_action_id", "=", False),
            ("debt_agency_handoff_id", "=", False),
            ("move_id.debt_no_reminder", "!=", True),
            ("partner_id.commercial_partner_id.debt_no_reminder", "!=", True),
            # An open case in any other stage kind (a dispute, a plan, a
            # promise, an agency or legal hand-off, a write-off) holds it; an
            # item still on a closed case (overdue again) is reminded.
            "|",
            "|",
            ("debt_case_id", "=", False),
            ("debt_case_id.is_closed", "=", True),
            ("debt_case_id.stage_kind", "in", LADDER_KINDS),
        ]

    @api.model
    def _select_targets(self, today, companies, partners=None):
        """Items reaching a new level today, as ``[EscalationItem]``.

        A fixed number of queries whatever the number of items: one query
        reads the items as plain rows with their invoice's and customer's
        settings, one the customers' last communication dates, and the levels
        are worked out on the policies' ladders.
        """
        Policy = self.env["debt.recovery.policy"]
        defaults = Policy._get_company_defaults(companies)
        if not defaults:
            return []
        levels = self.env["debt.recovery.level"].search([("company_id", "in", companies.ids)])
        ahead = max([0, *(-days for days in levels.mapped("days"))])
        rows = self._select_items(today + timedelta(days=ahead), companies, partners)
        rows = [
            row
            for row in rows
            if not row.do_not_contact and not (row.quiet_until and row.quiet_until >= today)
        ]
        if not rows:
            return []
        policy_ids = {row.invoice_policy_id for row in rows if row.invoice_policy_id}
        policy_ids |= {row.customer_policy_id for row in rows if row.customer_policy_id}
        policy_of = {policy.id: policy for policy in Policy.browse(policy_ids)}
        default_of = {company.id: policy for company, policy in defaults.items()}
        last_contact = self._last_contact_dates({(row.customer_id, row.company_id) for row in rows})
        ladders = {}
        targets = []
        policies = {}
        for row in rows:
            policy = (
                policy_of.get(row.invoice_policy_id)
                or policy_of.get(row.customer_policy_id)
                or default_of.get(row.company_id)
            )
            if not policy:
                continue
            if policy not in ladders:
                ladders[policy] = policy._get_ladder()
            ladder = ladders[policy]
            level = ladder.next_level(today, row.date_maturity, row.level_id, row.level_date)
            if not level:
                continue
            last = last_contact.get((row.customer_id, row.company_id))
            if last and (today - last).days < ladder.min_days_between:
                continue
            targets.append(EscalationItem(*row[:7], level))
            policies[row.line_id] = policy
        return self._drop_time_barred(today, targets, policies)

    @api.model
    def _drop_time_barred(self, today, targets, policies):
        """``targets`` but the customer-invoice items whose limitation date
        has passed (``account.move.line._debt_limitation_of``). Only items due
        long enough ago to be time-barred under any rule are looked at: on
        most days none, and no query."""
        cutoff = last_due_date_time_barred(today)
        old = [item for item in targets if item.date_maturity <= cutoff]
        if not old:
            return targets
        self.env["account.move"].flush_model(["move_type"])
        invoiced = {
            line_id
            for (line_id,) in self.env.execute_query(
                SQL(
                    "SELECT line.id FROM account_move_line line "
                    "JOIN account_move move ON move.id = line.move_id "
                    "WHERE line.id IN %s AND move.move_type = 'out_invoice'",
                    tuple(item.line_id for item in old),
                )
            )
        }
        Company = self.env["res.company"]
        codes = {}
        rows = []
        for item in old:
            if item.line_id in invoiced:
                key = (policies[item.line_id], item.company_id)
                if key not in codes:
                    codes[key] = key[0]._debt_limitation_code(Company.browse(item.company_id))
                rows.append((item.line_id, codes[key], item.date_maturity))
        limitations = self.env["account.move.line"]._debt_limitation_of(rows)
        barred = {line_id for line_id, limit in limitations.items() if limit.date < today}
        return [item for item in targets if item.line_id not in barred]

    @api.model
    def _select_items(self, due_until, companies, partners=None):
        """The candidate items (due on or before ``due_until``) as ``[ItemRow]``,
        in one query."""
        domain = [
            *self._item_domain(),
            ("company_id", "in", companies.ids),
            ("date_maturity", "<=", due_until),
        ]
        if partners is not None:
            domain.append(("partner_id.commercial_partner_id", "in", partners.ids))
        self.env.flush_all()
        AccountMoveLine = self.env["account.move.line"]
        query = AccountMoveLine._search(domain, order="id")
        alias = query.table
        partner = query.join(alias, "partner_id", "res_partner", "id", "debt_partner")
        customer = query.join(partner, "commercial_partner_id", "res_partner", "id", "customer")
        Partner = self.env["res.partner"]

        def customer_setting(fname):
            # Company-dependent: the value in the item's company, as the ORM
            # reads it there (with its fallback).
            return SQL(
                "CASE %s %s END",
                SQL.identifier(alias, "company_id"),
                SQL(" ").join(
                    SQL(
                        "WHEN %s THEN %s",
                        company.id,
                        Partner.with_company(company)._field_to_sql(customer, fname, query),
                    )
                    for company in companies
                ),
            )

        rows = self.env.execute_query(
            query.select(
                SQL.identifier(alias, "id"),
                SQL.identifier(customer, "id"),
                SQL.identifier(alias, "company_id"),
                SQL.identifier(alias, "currency_id"),
                SQL.identifier(alias, "date_maturity"),
                SQL.identifier(alias, "amount_residual"),
                SQL.identifier(alias, "amount_residual_currency"),
                SQL(
                    "(SELECT debt_policy_id FROM account_move WHERE id = %s)",
                    SQL.identifier(alias, "move_id"),
                ),
                *(
                    SQL(
                        "(SELECT %s FROM debt_recovery_communication_line "
                        "WHERE move_line_id = %s ORDER BY id DESC LIMIT 1)",
                        SQL.identifier(column),
                        SQL.identifier(alias, "id"),
                    )
                    for column in ("level_id", "level_date")
                ),
                customer_setting("debt_policy_id"),
                customer_setting("debt_do_not_contact"),
                customer_setting("debt_quiet_until"),
            )
        )
        return [ItemRow._make(row) for row in rows]

    @api.model
    def _last_contact_dates(self, pairs):
        """{(customer id, company id): date of the customer's last communication
        in that company}, cancelled and skipped ones aside, in one query."""
        if not pairs:
            return {}
        Communication = self.env["debt.recovery.communication"]
        groups = Communication.sudo()._read_group(
            [
                ("partner_id", "in", list({customer for customer, _company in pairs})),
                ("company_id", "in", list({company for _customer, company in pairs})),
                ("state", "not in", ("skipped", "cancelled")),
                ("level_id.days", ">", 0),
            ],
            ["partner_id", "company_id"],
            ["date:max"],
        )
        return {(partner.id, company.id): last for partner, company, last in groups}

    # === NET POSITION === #
    @api.model
    def _credits_by_key(self, keys):
        """{(customer id, company id, currency id): Credits} of the customers'
        open credits (credit notes, unapplied payments, advances: open
        receivable items that are owed to the customer), in one query.

        ``amount_currency`` is in the key's currency, ``amount`` in the
        company's, both positive.
        """
        keys = set(keys)
        if not keys:
            return {}
        AccountMoveLine = self.env["account.move.line"]
        domain = [
            *AccountMoveLine._debt_open_domain(),
            ("amount_residual", "<", 0),
            ("partner_id.commercial_partner_id", "in", list({key[0] for key in keys})),
            ("company_id", "in", list({key[1] for key in keys})),
            ("currency_id", "in", list({key[2] for key in keys})),
        ]
        self.env.flush_all()
        query = AccountMoveLine._search(domain)
        alias = query.table
        partner = query.join(alias, "partner_id", "res_partner", "id", "debt_partner")
        select = query.select(
            SQL.identifier(partner, "commercial_partner_id"),
            SQL.identifier(alias, "company_id"),
            SQL.identifier(alias, "currency_id"),
            SQL(
                "ARRAY_AGG(%s ORDER BY %s)",
                SQL.identifier(alias, "id"),
                SQL.identifier(alias, "id"),
            ),
            SQL("-SUM(%s)", SQL.identifier(alias, "amount_residual_currency")),
            SQL("-SUM(%s)", SQL.identifier(alias, "amount_residual")),
        )
        rows = self.env.execute_query(SQL("%s GROUP BY 1, 2, 3", select))
        return {
            (customer, company, currency): Credits(tuple(ids), amount_currency, amount)
            for customer, company, currency, ids, amount_currency, amount in rows
            if (customer, company, currency) in keys
        }

    # === CREATION === #
    @api.model
    def _add_late_payment(self, drafts, today):
        """Set on each draft the interest and compensation its letter states:
        for the levels that give the statutory notice, from one pass over all
        their items (``account.move.line._debt_late_payment``)."""
        notices = [draft for draft in drafts if draft.level.legal_notice]
        if not notices:
            return
        figures = (
            self.env["account.move.line"]
            .browse([item.line_id for draft in notices for item in draft.items])
            ._debt_late_payment(today)
        )
        for draft in notices:
            for item in draft.items:
                figure = figures.get(item.line_id)
                if figure:
                    draft.amount_interest += figure.interest
                    draft.amount_compensation += figure.compensation

    def _create_communications(self, drafts, today, send=True, case_of=None):
        """Create the communications of ``drafts`` (``[Draft]``).

        :param case_of: {(customer id, company id): open case id}, when the
                        caller already has them.
        """
        Communication = self.env["debt.recovery.communication"]
        if not drafts:
            return Communication
        if case_of is None:
            # The cases (one per customer and company), opened if missing, in one go.
            case_of = (
                self.env["debt.recovery.case"]
                .sudo()
                ._open_cases_of([(draft.customer, draft.company) for draft in drafts])
            )
        # In one INSERT each (no creation message, no followers): a
        # communication logs itself on the case and the customer when sent.
        comms = bulk_create(
            Communication,
            [
                {
                    "name": f"{draft.level.name} - {draft.customer_name}",
                    "amount_overdue": draft.amount_overdue,
                    "amount_credit": draft.amount_credit,
                    "amount_total": draft.amount,
                    "amount_interest": draft.amount_interest,
                    "amount_compensation": draft.amount_compensation,
                    "company_id": draft.company.id,
                    "case_id": case_of.get((draft.customer.id, draft.company.id)),
                    "partner_id": draft.customer.id,
                    "contact_id": draft.contact.id,
                    "currency_id": draft.currency.id,
                    "level_id": draft.level.id,
                    "date": today,
                    "state": "to_approve" if draft.level.needs_approval else "queued",
                    "channel_email": draft.email,
                    "channel_letter": draft.letter,
                    "channel_phone": draft.phone,
                }
                for draft in drafts
            ],
            # The cases and levels were selected in the communication's company.
            check_company=False,
        )
        bulk_create(
            self.env["debt.recovery.communication.line"],
            [
                {
                    "communication_id": comm.id,
                    "company_id": draft.company.id,
                    "move_line_id": item.line_id,
                    "level_id": item.level.id,
                    "level_date": today,
                    "currency_id": item.currency_id,
                    "date_maturity": item.date_maturity,
                    "days_overdue": (today - item.date_maturity).days,
                    "amount_residual_currency": item.amount_residual_currency,
                }
                for comm, draft in zip(comms, drafts, strict=True)
                for item in draft.items
            ],
            # The items were selected in the communication's company.
            check_company=False,
        )
        credit_pairs = [
            (comm.id, line_id)
            for comm, draft in zip(comms, drafts, strict=True)
            for line_id in draft.credits.line_ids
        ]
        if credit_pairs:
            comm_ids, line_ids = zip(*credit_pairs, strict=True)
            self.env.execute_query(
                SQL(
                    "INSERT INTO debt_recovery_communication_credit_rel "
                    "(communication_id, move_line_id) "
                    "SELECT * FROM unnest(%s::int[], %s::int[])",
                    list(comm_ids),
                    list(line_ids),
                )
            )
            comms.invalidate_recordset(["credit_line_ids"])
        # Their totals came with the communications: not computed again.
        for fname in ("amount_total", "amount_overdue"):
            self.env.remove_to_compute(Communication._fields[fname], comms)
        if send:
            comms.filtered(lambda c: c.state == "queued")._send()
        return comms
