"""The team dashboard: five shared KPIs for the weekly review, over the viewer's book (everything for
managers and admins)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from journey.accounts import read_repository as accounts_read
from journey.config import get_settings
from journey.deps import ReadSession
from journey.errors import InvalidInput
from journey.kit import utcnow
from journey.kpis import reads
from journey.models import TeamMember
from journey.policy import Action, require, sees_every_account
from journey.web import health_view, weekly_view
from journey.web.auth import PageViewer
from journey.web.render import page

router = APIRouter(include_in_schema=False)
KPI_TTL_SECONDS = 60
Cache = dict[str, tuple[float, dict[str, Any]]]
_lock = threading.Lock()


def cards(view: dict[str, Any]) -> dict[str, Any]:
    """The five cards at the top of the page: this week's figures of the weekly review, for the same filter
    (one source: the cards, the tables and the exports never disagree)."""
    f = view["figures"]
    known, unknown = health_view.mix_parts(f.get("health_mix"))
    completeness = f.get("packet_completeness")
    return {
        "journeys": f.get("accounts", 0), "as_of": view["as_of"],
        "ttv": {"median": f.get("ttv_median_days"), "reached": f.get("ttv_reached", 0)},
        "on_time": {"pct": f.get("on_time_pct"), "on_time": f.get("on_time", 0), "counted": f.get("tasks_counted", 0)},
        "packets": {"count": f.get("packets", 0), "completeness": None if completeness is None else round(completeness),
                    "accepted": f.get("packets_accepted", 0)},
        "mix": known, "mix_total": sum(known.values()), "mix_unknown": unknown,
        "expansion": {"amount": f.get("pipeline_amount") or 0, "count": f.get("pipeline_count", 0),
                      "accounts": len({p["account_id"] for p in view["pipeline"]}), "opportunities": view["pipeline"]},
    }


def app_cache(request: Request) -> Cache:
    """The figures' cache of this app (not the process: a new app, a test's, never reads another's)."""
    cache = getattr(request.app.state, "kpi_cache", None)
    if cache is None:
        cache = request.app.state.kpi_cache = {}
    return cache


def cached_weekly(session: Session, member: TeamMember, *, week: str, scope: str, cache: Cache) -> dict[str, Any]:
    """The weekly review, at most once a minute per book, week and filter (a week not snapshotted yet is
    computed from every task of every account, twice: this week and the one before)."""
    book = "all" if sees_every_account(member) else f"member:{member.id}"
    return _cached(cache, f"weekly:{book}:{week}:{scope}",
                   lambda: reads.weekly(session, viewer=member, week=week or None, scope=scope, now=utcnow()))


def _cached(cache: Cache, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    now = time.monotonic()
    with _lock:
        hit = cache.get(key)
    if hit is not None and now - hit[0] < KPI_TTL_SECONDS:
        return hit[1]
    figures = compute()
    with _lock:
        if len(cache) > 5000:
            cache.clear()
        cache[key] = (now, figures)
    return figures


Week = Annotated[str, Query(max_length=40)]  # longer than a week: the page says what is wrong with it
Segment = Annotated[str, Query(max_length=64)]
Region = Annotated[str, Query(max_length=16)]


@router.get("/team")
def dashboard(request: Request, viewer: PageViewer, session: ReadSession, week: Week = "", segment: Segment = "",
              region: Region = "") -> Response:
    require(viewer.member, Action.view_team)
    errors: dict[str, str] = {}
    try:
        scope = reads.scope_for(owner_id=None, segment=segment, region=region)
    except InvalidInput:
        scope, errors["region"] = reads.service.TEAM, ("Pick a segment or a region, not both: set one of them back "
                                                       "to All. Showing every account meanwhile.")
    try:
        view = cached_weekly(session, viewer.member, week=week, scope=scope, cache=app_cache(request))
    except InvalidInput as exc:
        view = cached_weekly(session, viewer.member, week="", scope=scope, cache=app_cache(request))
        errors["week"] = f"{exc.detail}. Showing this week instead."
    tables = {t: weekly_view.rows(view, t, get_settings().currency) for t in weekly_view.TABLES if t != "history"}
    return page(request, "team.html", viewer, k=cards(view),
                w=view, tables=tables, charts=weekly_view.charts(view), errors=errors,
                filters={"week": week, "segment": segment, "region": region},
                segments=accounts_read.segments(session, viewer.member),
                regions=accounts_read.regions(session, viewer.member))


@router.get("/team/export.csv")
def export(request: Request, viewer: PageViewer, session: ReadSession,
           table: Annotated[str, Query(max_length=16)] = "kpis", week: Week = "", segment: Segment = "",
           region: Region = "") -> Response:
    """One table of the weekly review as CSV (kpis, money, people, attention, history)."""
    require(viewer.member, Action.view_team)
    if table not in weekly_view.TABLES:
        raise InvalidInput(f"table must be one of {', '.join(weekly_view.TABLES)}")
    scope = reads.scope_for(owner_id=None, segment=segment, region=region)
    view = cached_weekly(session, viewer.member, week=week, scope=scope, cache=app_cache(request))
    body = weekly_view.to_csv(*weekly_view.rows(view, table, get_settings().currency, plain=True))
    name = f"weekly-review-{view['week']}-{table}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
