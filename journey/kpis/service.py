"""Use cases of the weekly review: take a week's snapshot (per team, segment, region and CSM / AM), backfill
past weeks from the timestamps the tables keep, and read a week with last week's values beside it."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from journey.errors import InvalidInput
from journey.kpis import domain, repository
from journey.kpis.domain import AccountFacts
from journey.models import KpiSnapshot

TEAM = "team"


def scopes_of(facts: Sequence[AccountFacts], owner_ids: Sequence[int]) -> dict[str, list[AccountFacts]]:
    """The snapshot's scopes: the whole team, each segment, each region, each CSM's and AM's book, and each
    book within each segment and region (`member:7|segment:smb`: the per-person table under a filter)."""
    out: dict[str, list[AccountFacts]] = {TEAM: list(facts)}
    for a in facts:
        for kind, value in (("segment", a.segment), ("region", a.region)):
            if value:
                out.setdefault(f"{kind}:{value}", []).append(a)
    for member_id in owner_ids:
        book = out[f"member:{member_id}"] = [a for a in facts if member_id in (a.csm_id, a.am_id)]
        for a in book:
            for kind, value in (("segment", a.segment), ("region", a.region)):
                if value:
                    out.setdefault(f"member:{member_id}|{kind}:{value}", []).append(a)
    return out


def member_of(scope: str) -> int | None:
    """The CSM's or AM's id of a member scope (`member:7`, `member:7|region:FR`), else None."""
    return int(scope.split("|", 1)[0].split(":", 1)[1]) if scope.startswith("member:") else None


def figures(kpis: domain.Kpis) -> dict[str, Any]:
    """The KPIs as JSON: money as numbers with two decimals."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in dataclasses.asdict(kpis).items()}


def compute_week(session: Session, *, monday: date, now: datetime) -> tuple[datetime, dict[str, dict[str, Any]]]:
    """(as of, figures per scope) of the week starting `monday`: as it stood at the week's end, or now."""
    as_of = min(now, domain.week_end(monday))
    facts = repository.facts_at(session, as_of, repository.contracts(session))
    owner_ids = [m.id for m in repository.owners(session)]
    scopes = scopes_of(facts, owner_ids)
    return as_of, {scope: figures(domain.kpis_of(rows, as_of.date())) for scope, rows in scopes.items()}


def snapshot_week(session: Session, *, week: str | date, now: datetime, source: str = "job") -> int:
    """Store the week's figures; returns how many scopes were written. Idempotent per week: a week that had
    ended when its snapshot was taken keeps it (what was true then); a week still running is refreshed."""
    monday = domain.parse_week(week) if isinstance(week, str) else week - timedelta(days=week.weekday())
    if monday > now.date():
        raise InvalidInput("that week has not started yet")
    name, end = domain.week_of(monday), domain.week_end(monday)
    existing = repository.snapshots_of_week(session, name)
    ended = bool(existing) and all(s.as_of >= end for s in existing.values())
    if ended and not lacks_filtered_books(existing):
        return 0
    as_of, by_scope = compute_week(session, monday=monday, now=now)
    if ended:  # taken before books were kept per segment and region: add those, keep what was stored then
        by_scope = {scope: values for scope, values in by_scope.items() if "|" in scope}
    for scope, values in by_scope.items():
        row = existing.get(scope)
        if row is None:
            row = KpiSnapshot(week=name, week_start=monday, scope=scope, member_id=member_of(scope))
            session.add(row)
        row.figures, row.as_of, row.taken_at, row.source = values, as_of, now, source
    session.flush()
    return len(by_scope)


def lacks_filtered_books(stored: Mapping[str, Any]) -> bool:
    """A week snapshotted with each CSM's and AM's book but not within each segment and region (before those
    scopes existed): under a filter, /team would show nobody for that week."""
    return any(s.startswith("member:") for s in stored) and not any("|" in s for s in stored)


def backfill(session: Session, *, weeks: int, now: datetime) -> list[tuple[str, int]]:
    """Snapshot the `weeks` weeks ending with the current one (weeks already captured are kept)."""
    if not 1 <= weeks <= 104:
        raise InvalidInput("weeks must be between 1 and 104")
    this_monday = now.date() - timedelta(days=now.weekday())
    return [(domain.week_of(m), snapshot_week(session, week=m, now=now, source="backfill"))
            for m in domain.previous_weeks(this_monday, weeks)]
