"""Limitation periods of a commercial claim, per jurisdiction.

Plain Python over plain data, as tools/late_payment.py: the journal items'
events are read in one query per kind of event
(``account.move.line._debt_limitation``), and the rules are tested on
hand-computed dates (tests/test_limitation.py). The statutes are in the
module's readme (CONFIGURE.md).

``limitation_date(code, date_due, events)`` gives the last day on which the
claim can still be brought. Every event that the law counts as interrupting
(or restarting) the period starts a full period again from its date, without
any year-end rule; a restart never shortens the period, and an event after
the claim is time-barred brings nothing back (interruption acts on a running
period; the UK says so in terms, Limitation Act 1980 s. 29 (7)).
"""

from dataclasses import dataclass
from datetime import date

# The kinds of event that can interrupt a limitation period.
ACKNOWLEDGEMENT = "acknowledgement"  # a plan agreed, a promise signed in writing
# A promise to pay taken by phone or in person: an acknowledgement wherever
# the law asks no form of it; not in the United Kingdom (Limitation Act 1980
# s. 30 (1): "in writing and signed by the person making it").
UNSIGNED_ACKNOWLEDGEMENT = "unsigned_acknowledgement"
PART_PAYMENT = "part_payment"
WRITTEN_REMINDER = "written_reminder"  # a letter or an email that left
EXTRAJUDICIAL_CLAIM = "extrajudicial_claim"
COURT_CLAIM = "court_claim"
EVENT_KINDS = (
    ACKNOWLEDGEMENT,
    UNSIGNED_ACKNOWLEDGEMENT,
    PART_PAYMENT,
    WRITTEN_REMINDER,
    EXTRAJUDICIAL_CLAIM,
    COURT_CLAIM,
)
# An acknowledgement in any form (BGB § 212, Code civil 2240, BW 3:318,
# Código Civil 1973).
ANY_ACKNOWLEDGEMENT = frozenset({ACKNOWLEDGEMENT, UNSIGNED_ACKNOWLEDGEMENT})


@dataclass(frozen=True)
class LimitationRule:
    """How long a claim lasts, and what starts it again."""

    code: str
    years: int
    # The period starts at the end of the year the claim fell due (DE).
    from_year_end: bool = False
    # The kinds of event that start a full period again from their date.
    restarted_by: frozenset = frozenset()


RULES = {
    # BGB §§ 195, 199 (1): 3 years from the end of the year the claim arose;
    # § 212 (1) Nr. 1: restarted (Neubeginn) by an acknowledgement, "by a part
    # payment, an interest payment, a security or in any other way".
    "de": LimitationRule(
        "de", 3, from_year_end=True, restarted_by=ANY_ACKNOWLEDGEMENT | {PART_PAYMENT}
    ),
    # Code de commerce L110-4: 5 years; Code civil 2240 (acknowledgement, of
    # which a part payment is one), 2241 (a court claim) interrupt it, and
    # 2231: the new period is as long as the old.
    "fr": LimitationRule("fr", 5, restarted_by=ANY_ACKNOWLEDGEMENT | {PART_PAYMENT, COURT_CLAIM}),
    # Limitation Act 1980 s. 5: 6 years from the date the cause of action
    # accrued; ss. 29 (5), 30: a written acknowledgement or a part payment
    # makes it accrue again on that date; s. 29 (7): never once expired.
    "uk": LimitationRule("uk", 6, restarted_by=frozenset({ACKNOWLEDGEMENT, PART_PAYMENT})),
    # BW 3:307: 5 years; 3:317 (1): interrupted by a written reminder (a
    # letter or email claiming payment), 3:316 a court claim, 3:318 an
    # acknowledgement (a part payment is one); 3:319: 5 years again.
    "nl": LimitationRule(
        "nl",
        5,
        restarted_by=ANY_ACKNOWLEDGEMENT
        | {PART_PAYMENT, WRITTEN_REMINDER, EXTRAJUDICIAL_CLAIM, COURT_CLAIM},
    ),
    # Código Civil 1964 (2): 5 years; 1973: interrupted by a claim in court,
    # an extrajudicial claim by the creditor (every letter or email that
    # left) and any acknowledgement of the debt by the debtor.
    "es": LimitationRule(
        "es",
        5,
        restarted_by=ANY_ACKNOWLEDGEMENT
        | {PART_PAYMENT, WRITTEN_REMINDER, EXTRAJUDICIAL_CLAIM, COURT_CLAIM},
    ),
    # Other countries: a default to be checked per country (most of the
    # EU's general periods for commercial claims are 3 to 10 years): 5
    # years, restarted by the debtor's acknowledgement.
    "eu": LimitationRule("eu", 5, restarted_by=ANY_ACKNOWLEDGEMENT | {PART_PAYMENT}),
}

# No rule gives less than this many years from the due date: an item due
# later than this before a day cannot be time-barred on that day.
SHORTEST_YEARS = min(rule.years for rule in RULES.values())


def add_years(day, years):
    """``day`` ``years`` later; 29 February becomes 28 February (the end of
    the month, BGB § 188 (3))."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def limitation_date(code, date_due, events=()):
    """The last day on which a claim due on ``date_due`` can be brought under
    the rule ``code`` (``RULES``), given ``events``: ``[(date, kind)]``."""
    rule = RULES.get(code) or RULES["eu"]
    if rule.from_year_end:
        last = date(date_due.year + rule.years, 12, 31)
    else:
        last = add_years(date_due, rule.years)
    for day, kind in sorted(events):
        if day > last:
            break  # time-barred: nothing after it revives the claim
        if day >= date_due and kind in rule.restarted_by:
            last = max(last, add_years(day, rule.years))
    return last


def may_be_time_barred(date_due, today):
    """Whether a claim due on ``date_due`` can be time-barred on ``today``
    under any rule (a cheap filter before reading any event)."""
    return add_years(date_due, SHORTEST_YEARS) < today


def last_due_date_time_barred(today):
    """The last due date that can be time-barred on ``today`` under any
    rule: an item due later is not, whatever its events (may_be_time_barred
    for a whole list by one comparison; one day too many at most, around a
    29 February)."""
    return add_years(today, -SHORTEST_YEARS)
