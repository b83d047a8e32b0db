"""Statutory late-payment interest and compensation, per jurisdiction.

Plain Python over plain data, so that the whole ledger is computed in one
pass (``account.move.line._debt_late_payment``) and the rules are tested
on hand-computed tables (tests/test_late_payment.py). The statutes are in
the module's readme (CONFIGURE.md).

How interest accrues: simple interest, for each day from the day after the
due date, on the amount that was open at the start of that day, at that
day's rate, divided by 365. A payment stops interest on what it paid from
the next day. The Netherlands add the interest to the principal after each
full year (art. 6:119 (2) BW).
"""

import bisect
from dataclasses import dataclass
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)

# The kinds of reference rate the statutes refer to.
ECB = "ecb_mro"  # ECB main refinancing operations (fixed rate)
DE_BASE = "de_base"  # German base rate, § 247 BGB (1 January and 1 July)
BOE = "boe_bank"  # Bank of England Bank Rate


def _bik(amount):
    """Dutch extrajudicial collection costs for consumers (Besluit
    vergoeding voor buitengerechtelijke incassokosten, art. 2)."""
    bands = ((2500, 0.15), (2500, 0.10), (5000, 0.05), (190000, 0.01), (None, 0.005))
    left, costs = amount, 0.0
    for width, share in bands:
        part = left if width is None else min(left, width)
        costs += part * share
        left -= part
        if left <= 0:
            break
    return min(max(costs, 40.0), 6775.0)


def _uk_fixed_sum(amount):
    """Late Payment of Commercial Debts (Interest) Act 1998, s. 5A."""
    if amount < 1000:
        return 40.0
    if amount < 10000:
        return 70.0
    return 100.0


@dataclass(frozen=True)
class Rule:
    """What a jurisdiction grants on a late invoice."""

    code: str
    rate_kind: str
    margin: float
    # Points over the reference rate for a consumer; None: as a business.
    margin_consumer: float | None = None
    # The rate of the reference date of the debt for the whole debt (UK),
    # else the reference rate of each half-year (1 January, 1 July).
    fixed_for_debt: bool = False
    compound_yearly: bool = False
    # Compensation currency, business amount, consumer amount (callables of
    # the invoice amount).
    compensation_currency: str = "EUR"
    compensation: object = staticmethod(lambda amount: 40.0)
    compensation_consumer: object = staticmethod(lambda amount: 0.0)


RULES = {
    # Directive 2011/7/EU, arts. 3, 4, 6; Ley 3/2004, arts. 5, 7, 8.
    "eu": Rule("eu", ECB, 8.0),
    "es": Rule("es", ECB, 8.0),
    # Code de commerce L441-10, D441-5.
    "fr": Rule("fr", ECB, 10.0),
    # BGB § 288 (1), (2), (5).
    "de": Rule("de", DE_BASE, 9.0, margin_consumer=5.0),
    # BW 6:119a, 6:119 (2), 6:96; the BIK scale for consumers.
    "nl": Rule(
        "nl",
        ECB,
        8.0,
        compound_yearly=True,
        compensation_consumer=staticmethod(_bik),
    ),
    # Late Payment of Commercial Debts (Interest) Act 1998, s. 4, 5A;
    # Late Payment of Commercial Debts (Rate of Interest) (No. 3) Order 2002.
    "uk": Rule(
        "uk",
        BOE,
        8.0,
        fixed_for_debt=True,
        compensation_currency="GBP",
        compensation=staticmethod(_uk_fixed_sum),
    ),
}


class RateTable:
    """Reference rates of each kind: {kind: [(date_from, rate %)]}."""

    def __init__(self, rows):
        self._dates = {}
        self._rates = {}
        for kind, values in rows.items():
            values = sorted(values)
            self._dates[kind] = [day for day, _rate in values]
            self._rates[kind] = [rate for _day, rate in values]

    def rate_on(self, kind, day):
        """The rate of ``kind`` in force on ``day`` (None before the first)."""
        dates = self._dates.get(kind) or []
        index = bisect.bisect_right(dates, day) - 1
        return self._rates[kind][index] if index >= 0 else None


def _half_year_start(day):
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def _next_half_year(day):
    return date(day.year, 7, 1) if day.month <= 6 else date(day.year + 1, 1, 1)


def _add_year(day):
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@dataclass
class Accrual:
    """Interest of one item: the amount, from when, at what rates."""

    interest: float = 0.0
    date_from: date | None = None
    date_to: date | None = None
    # The (first day, annual rate %) of each period of the item.
    rates: tuple = ()


def _fixed_rate(rule, table, first_day, margin, contract_rate):
    """The rate of the whole debt, if it has one: the contract's, or (UK)
    the reference rate of 31 December for interest starting in the first
    half-year, of 30 June for the second, plus the margin."""
    if contract_rate is not None:
        return contract_rate
    if not rule.fixed_for_debt:
        return None
    if first_day.month <= 6:
        reference = date(first_day.year - 1, 12, 31)
    else:
        reference = date(first_day.year, 6, 30)
    base = table.rate_on(rule.rate_kind, reference)
    return None if base is None else base + margin


def accrue(
    rule, table, amount, date_due, payments, today, consumer=False, contract_rate=None, since=None
):
    """The interest accrued on an invoice of ``amount`` due on ``date_due``
    up to ``today`` included (from ``since`` when the days before it were
    charged or waived).

    ``payments``: [(date, amount)] paid on the item (credit notes included),
    each stopping interest on what it paid from the next day.
    ``contract_rate``: an agreed annual rate (%) replacing the statutory one.
    """
    start = date_due + ONE_DAY
    # UK: the rate is fixed by the day interest first started, charged or not.
    first_day = start
    if since and since > start:
        start = since
    paid = sorted(payments)
    result = Accrual()
    if amount <= 0 or start > today:
        return result
    margin = rule.margin
    if consumer and rule.margin_consumer is not None:
        margin = rule.margin_consumer
    fixed = _fixed_rate(rule, table, first_day, margin, contract_rate)
    principal = float(amount)
    # What was paid before interest starts does not bear any.
    while paid and paid[0][0] < start:
        principal -= paid.pop(0)[1]
    interest = capitalised = 0.0
    anniversary = _add_year(first_day)
    while anniversary <= start:
        anniversary = _add_year(anniversary)
    rates = []
    day = start
    while day <= today and principal > 0.005:
        if fixed is not None:
            rate = fixed
        else:
            base = table.rate_on(rule.rate_kind, _half_year_start(day))
            if base is None:
                break
            rate = base + margin
        rate = max(rate, 0.0)
        # The period ends before the next event: a new half-year, the day
        # after a payment, the anniversary (compounding), or after today.
        end = today + ONE_DAY
        if fixed is None:
            end = min(end, _next_half_year(day))
        if paid:
            end = min(end, paid[0][0] + ONE_DAY)
        if rule.compound_yearly:
            end = min(end, anniversary)
        if not rates or rates[-1][1] != rate:
            rates.append((day, rate))
        interest += (principal + capitalised) * rate / 100.0 * (end - day).days / 365.0
        while paid and paid[0][0] + ONE_DAY == end:
            principal -= paid.pop(0)[1]
        if rule.compound_yearly and end == anniversary:
            capitalised = interest
            anniversary = _add_year(anniversary)
        result.date_to = end - ONE_DAY
        day = end
    if interest:
        result.interest = interest
        result.date_from = start
        result.rates = tuple(rates)
    else:
        result.date_to = None
    return result


def compensation(rule, amount, consumer=False):
    """The fixed compensation for recovery costs of one late invoice of
    ``amount``, in ``rule.compensation_currency``."""
    if consumer:
        return rule.compensation_consumer(amount)
    return rule.compensation(amount)
