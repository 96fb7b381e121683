"""The weekly review as read: a week's five KPIs with last week's values and the change, per-CSM and per-AM
tables, the money figures, retention over a period, 12 weeks of each KPI, and the accounts needing
attention. Read from the snapshots; a week not snapshotted yet is computed as it stands (`live`)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from journey.accounts.repository import visible_to
from journey.errors import InvalidInput, NotFound
from journey.kpis import domain, repository, service
from journey.models import Account, TeamMember

# (key in the figures, label, unit): the five KPIs of the weekly review, then the money
KPIS = (("ttv_median_days", "Time to value (median)", "days"), ("on_time_pct", "Plan on time", "%"),
        ("packet_completeness", "Packet completeness", "%"), ("accounts_at_risk", "Accounts yellow or red", ""),
        ("pipeline_amount", "Expansion pipeline", "money"))
MONEY = (("arr", "Contract value (ARR)"), ("arr_at_risk", "ARR at risk"), ("pipeline_amount", "Expansion pipeline"))
HISTORY_WEEKS = 12


def scope_for(*, owner_id: int | None, segment: str, region: str) -> str:
    if sum(bool(x) for x in (owner_id, segment, region)) > 1:
        raise InvalidInput("filter by one of owner, segment or region at a time")
    if owner_id:
        return f"member:{owner_id}"
    return f"segment:{segment}" if segment else f"region:{region}" if region else service.TEAM


def weekly(session: Session, *, viewer: TeamMember, week: str | None, scope: str, now: datetime,
           period_days: int = 90) -> dict[str, Any]:
    monday = domain.parse_week(week) if week else now.date() - timedelta(days=now.weekday())
    if monday > now.date():
        raise InvalidInput("that week has not started yet")
    this, live = _week(session, monday, now)
    last, _ = _week(session, monday - timedelta(weeks=1), now)
    if scope.startswith("member:") and scope not in this:
        raise NotFound(f"no CSM or AM {scope.split(':', 1)[1]}")
    mine, before = this.get(scope, {}), last.get(scope, {})
    end = min(now, domain.week_end(monday)).date()
    in_scope = repository.scope_ids(scope)
    ids = set(session.scalars(in_scope)) if in_scope is not None else None
    contracts = [c for c in repository.contracts(session) if ids is None or c.account_id in ids]
    won = [w for w in repository.won_expansions(session) if ids is None or w[0] in ids]
    r = domain.retention(contracts, won, start=end - timedelta(days=period_days), end=end + timedelta(days=1))
    return {
        "week": domain.week_of(monday), "week_start": monday, "as_of": min(now, domain.week_end(monday)),
        "scope": scope, "live": live,
        "kpis": [_kpi(key, label, unit, mine, before) for key, label, unit in KPIS],
        "health_mix": {"this_week": mine.get("health_mix", {}), "last_week": before.get("health_mix", {})},
        "money": [_kpi(key, label, "money", mine, before) for key, label in MONEY],
        "retention": {"start": r.start, "end": r.end - timedelta(days=1), "starting_arr": float(r.starting_arr),
                      "churned_arr": float(r.churned_arr), "expansion_arr": float(r.expansion_arr),
                      "churned_accounts": r.churned_accounts, "grr": r.grr, "nrr": r.nrr},
        "figures": mine, "pipeline": _pipeline(session, viewer, in_scope),
        "people": _people(session, this, last, scope),
        "history": _history(session, scope, monday, this if live else None),
        "attention": _attention(session, viewer, in_scope),
    }


def _week(session: Session, monday: date, now: datetime) -> tuple[dict[str, dict[str, Any]], bool]:
    stored = repository.snapshots_of_week(session, domain.week_of(monday))
    if stored:
        return {scope: s.figures for scope, s in stored.items()}, False
    return service.compute_week(session, monday=monday, now=now)[1], True


def _kpi(key: str, label: str, unit: str, this: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    value, previous = this.get(key), last.get(key)
    return {"key": key, "label": label, "unit": unit, "value": value, "last_week": previous,
            "change": domain.change(value, previous)}


def _people(session: Session, this: dict[str, dict[str, Any]], last: dict[str, dict[str, Any]], scope: str
            ) -> list[dict[str, Any]]:
    """A row per CSM and AM: their whole book, or under a segment or region filter the part of it in that
    segment or region (members with no account there are left out)."""
    within = f"|{scope}" if scope.startswith(("segment:", "region:")) else ""
    ids = {service.member_of(s) for s in this if s.startswith("member:") and s.endswith(within) and
           ("|" in s) == bool(within)}
    names = repository.member_names(session, {i for i in ids if i is not None})
    rows = []
    for member_id in sorted((i for i in ids if i is not None), key=lambda i: names.get(i, ("", ""))[0]):
        name, role = names.get(member_id, (f"member {member_id}", ""))
        key = f"member:{member_id}{within}"
        mine, before = this[key], last.get(key, {})
        rows.append({"member_id": member_id, "name": name, "role": role, "accounts": mine.get("accounts", 0),
                     **{key: _kpi(key, label, unit, mine, before) for key, label, unit in KPIS},
                     "arr_at_risk": _kpi("arr_at_risk", "ARR at risk", "money", mine, before)})
    return rows


def _history(session: Session, scope: str, monday: date, live: dict[str, dict[str, Any]] | None
             ) -> dict[str, list[tuple[date, float | None]]]:
    since = monday - timedelta(weeks=HISTORY_WEEKS - 1)
    stored = {s.week_start: s.figures for s in repository.snapshots_of_scope(session, scope, since=since,
                                                                               until=monday)}
    if live is not None:
        stored[monday] = live.get(scope, {})
    weeks = domain.previous_weeks(monday, HISTORY_WEEKS)
    return {key: [(w, stored.get(w, {}).get(key)) for w in weeks] for key, _, _ in (*KPIS, ("arr_at_risk", "", ""))}


def _pipeline(session: Session, viewer: TeamMember, scope: Select | None) -> list[dict[str, Any]]:
    """The open and proposed opportunities of the scope the viewer may see, largest first."""
    visible = visible_to(select(Account.id), viewer)
    return [{"account_id": a.id, "name": a.name, "title": o.title, "stage": o.stage, "source": o.source,
             "amount": None if o.amount is None else float(o.amount)}
            for o, a in repository.open_opportunities(session, visible, scope, domain.OPEN_STAGES)]


def _attention(session: Session, viewer: TeamMember, scope: Select | None) -> list[dict[str, Any]]:
    visible = visible_to(select(Account.id), viewer)
    return [{"account_id": a.id, "name": a.name, "band": band, "score": round(score),
             "reason": f"health {band.replace('_', ' ')}, score {score:.0f}"}
            for a, band, score in repository.at_risk_accounts(session, visible, scope, domain.RISK_BANDS)]
