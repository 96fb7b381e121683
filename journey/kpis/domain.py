"""The weekly review's figures, as pure functions of what was true at an instant: ISO weeks, the five KPIs
of a set of accounts, ARR at risk, the expansion pipeline in money, gross and net revenue retention, and
week-over-week changes. No Session: the repository gathers the facts, these rules read them.

Formulas (docs/reviews.md repeats them):
- contract value (ARR) of an account at T: the amounts of its won deals signed by T and not lost by T;
- ARR at risk: the contract value of the accounts whose health band at T is yellow or red
  (`watch`, `at_risk`, `critical`; `unknown` is counted apart, never at risk);
- over a period [start, end): starting ARR S = contract value at `start` of the accounts that had one;
  churned C = the part of S lost (deal lost) before `end`; expansion E = opportunities of those accounts
  won in the period; GRR = (S − C) / S; NRR = (S − C + E) / S (None when S is 0).
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from journey.errors import InvalidInput
from journey.onboarding.lifecycle import TaskOutcome, on_time_counts, time_to_value_days

RISK_BANDS = frozenset({"watch", "at_risk", "critical", "yellow", "red"})
OPEN_STAGES = ("open", "proposed")
STAGES = ("open", "proposed", "won", "lost")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


# ------------------------------------------------------------------------------------------ ISO weeks
def parse_week(text: str) -> date:
    """`2027-W05` -> its Monday; a clear error for anything else."""
    m = _WEEK.match(text.strip())
    try:
        if m is None or not 2000 <= int(m.group(1)) <= 2999:  # 12 weeks of history before it, retention too
            raise ValueError
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InvalidInput(f"week must look like 2027-W05 (an ISO year and week), not {text!r}") from None


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_end(monday: date) -> datetime:
    """The instant the week ends: the next Monday, 00:00 UTC."""
    return datetime.combine(monday + timedelta(days=7), time(), tzinfo=UTC)


def previous_weeks(monday: date, count: int) -> list[date]:
    """The `count` Mondays ending with `monday`, oldest first."""
    return [monday - timedelta(weeks=i) for i in reversed(range(count))]


# ------------------------------------------------------------------------------------------ the facts
@dataclass(frozen=True)
class Contract:
    account_id: int
    amount: Decimal
    signed_on: date
    lost_on: date | None = None

    def live_on(self, day: date) -> bool:
        return self.signed_on <= day and (self.lost_on is None or self.lost_on > day)


@dataclass(frozen=True)
class Pipeline:
    """An opportunity as it stood at T."""

    amount: Decimal | None
    stage: str


@dataclass(frozen=True)
class AccountFacts:
    """One account as it stood at T."""

    id: int
    name: str = ""
    segment: str | None = None
    region: str | None = None
    csm_id: int | None = None
    am_id: int | None = None
    arr: Decimal = Decimal(0)
    band: str | None = None
    signed_on: date | None = None
    value_on: date | None = None
    tasks: tuple[TaskOutcome, ...] = ()
    completeness: float | None = None
    accepted: bool = False
    pipeline: tuple[Pipeline, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Kpis:
    accounts: int
    ttv_median_days: float | None
    ttv_reached: int
    on_time_pct: float | None
    on_time: int
    tasks_counted: int
    packets: int
    packet_completeness: float | None
    packets_accepted: int
    health_mix: dict[str, int]
    pipeline_count: int
    pipeline_amount: Decimal
    arr: Decimal
    arr_at_risk: Decimal
    accounts_at_risk: int


def kpis_of(accounts: Sequence[AccountFacts], today: date) -> Kpis:
    """The five KPIs (and ARR at risk) over a set of accounts as they stood on `today`."""
    ttv = [d for a in accounts if a.signed_on is not None
           and (d := time_to_value_days(a.signed_on, a.value_on)) is not None]
    on_time, counted = on_time_counts([t for a in accounts for t in a.tasks], today)
    packets = [a.completeness for a in accounts if a.completeness is not None]
    mix: dict[str, int] = {}
    for a in accounts:
        if a.band is not None:
            mix[a.band] = mix.get(a.band, 0) + 1
    pipeline = [p for a in accounts for p in a.pipeline if p.stage in OPEN_STAGES]
    risky = [a for a in accounts if a.band in RISK_BANDS]
    return Kpis(
        accounts=len(accounts), ttv_median_days=statistics.median(ttv) if ttv else None, ttv_reached=len(ttv),
        on_time_pct=round(100 * on_time / counted, 1) if counted else None, on_time=on_time, tasks_counted=counted,
        packets=len(packets), packet_completeness=round(statistics.fmean(packets), 1) if packets else None,
        packets_accepted=sum(a.accepted for a in accounts), health_mix=mix, pipeline_count=len(pipeline),
        pipeline_amount=sum((p.amount or Decimal(0) for p in pipeline), Decimal(0)),
        arr=sum((a.arr for a in accounts), Decimal(0)), arr_at_risk=arr_at_risk(accounts),
        accounts_at_risk=len(risky))


def arr_at_risk(accounts: Iterable[AccountFacts]) -> Decimal:
    """Contract value of the accounts in a yellow or red band (`unknown` is not at risk: it is unmeasured)."""
    return sum((a.arr for a in accounts if a.band in RISK_BANDS), Decimal(0))


def contract_value(contracts: Iterable[Contract], day: date) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for c in contracts:
        if c.live_on(day):
            out[c.account_id] = out.get(c.account_id, Decimal(0)) + c.amount
    return out


# ------------------------------------------------------------------------------------------ retention
@dataclass(frozen=True)
class Retention:
    start: date
    end: date
    starting_arr: Decimal
    churned_arr: Decimal
    expansion_arr: Decimal
    churned_accounts: int
    grr: float | None
    nrr: float | None


def retention(contracts: Sequence[Contract], won: Sequence[tuple[int, Decimal, date]], *, start: date,
              end: date) -> Retention:
    """Gross and net revenue retention over [start, end) (see the module's docstring for the formulas).
    `won`: (account id, amount, won on) of expansion opportunities won."""
    if end <= start:
        raise InvalidInput("the period must end after it starts")
    cohort = [c for c in contracts if c.live_on(start)]
    accounts = {c.account_id for c in cohort}
    starting = sum((c.amount for c in cohort), Decimal(0))
    lost = [c for c in cohort if c.lost_on is not None and c.lost_on < end]
    churned = sum((c.amount for c in lost), Decimal(0))
    still = contract_value(cohort, end - timedelta(days=1))
    churned_accounts = len({c.account_id for c in lost} - set(still))
    expansion = sum((amount for a, amount, on in won if a in accounts and start <= on < end), Decimal(0))
    grr = float((starting - churned) / starting) if starting else None
    nrr = float((starting - churned + expansion) / starting) if starting else None
    return Retention(start, end, starting, churned, expansion, churned_accounts,
                     round(grr, 4) if grr is not None else None, round(nrr, 4) if nrr is not None else None)


# ----------------------------------------------------------------------------------- week over week
def change(current: float | Decimal | None, previous: float | Decimal | None) -> float | None:
    """This week's value minus last week's; None when either is unknown."""
    if current is None or previous is None:
        return None
    return round(float(current) - float(previous), 2)
