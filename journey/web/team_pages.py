"""The team dashboard: five shared KPIs for the weekly review, over the viewer's book (everything for
managers and admins)."""
from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from journey.deps import ReadSession
from journey.errors import InvalidInput
from journey.kit import utcnow
from journey.kpis import reads
from journey.models import TeamMember
from journey.onboarding import lifecycle
from journey.policy import Action, require, sees_every_account
from journey.web import health_view, queries, weekly_view
from journey.web.auth import PageViewer
from journey.web.render import Clock, page

router = APIRouter(include_in_schema=False)
KPI_TTL_SECONDS = 60
Cache = dict[str, tuple[float, dict[str, Any]]]
_lock = threading.Lock()


def kpis(session: Session, member: TeamMember, clock: Clock) -> dict[str, Any]:
    on_time, counted = queries.plan_on_time(session, member, clock.today)
    reached = queries.value_reached(session, member)
    ttv = [d for d in (lifecycle.time_to_value_days(signed, done.astimezone(clock.tz).date())
                       for signed, done in reached) if d is not None]
    packets, completeness, accepted = queries.packet_figures(session, member)
    count, accounts, first = queries.expansion_pipeline(session, member)
    mix = health_view.band_mix(session, queries.book_ids(member).scalar_subquery())
    known, unknown = health_view.mix_parts(mix)
    return {
        "journeys": queries.journeys_in_book(session, member),
        "ttv": {"median": statistics.median(ttv) if ttv else None, "reached": len(ttv)},
        "on_time": {"pct": round(100 * on_time / counted, 1) if counted else None, "on_time": on_time,
                    "counted": counted},
        "packets": {"count": packets, "completeness": round(completeness) if completeness is not None else None,
                    "accepted": accepted},
        "mix": None if mix is None else known, "mix_total": sum(known.values()), "mix_unknown": unknown,
        "expansion": {"count": count, "accounts": accounts, "first": first},
    }


def app_cache(request: Request) -> Cache:
    """The figures' cache of this app (not the process: a new app, a test's, never reads another's)."""
    cache = getattr(request.app.state, "kpi_cache", None)
    if cache is None:
        cache = request.app.state.kpi_cache = {}
    return cache


def cached_kpis(session: Session, member: TeamMember, clock: Clock, cache: Cache) -> dict[str, Any]:
    """The KPIs, computed at most once a minute per book (they aggregate every task of every account: a
    weekly-review figure does not need to be recomputed on each page view). In memory, per app."""
    book = "all" if sees_every_account(member) else f"member:{member.id}"
    return _cached(cache, book, lambda: {**kpis(session, member, clock), "as_of": utcnow()})


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


Week = Annotated[str, Query(max_length=8)]
Segment = Annotated[str, Query(max_length=64)]
Region = Annotated[str, Query(max_length=16)]


@router.get("/team")
def dashboard(request: Request, viewer: PageViewer, session: ReadSession, week: Week = "", segment: Segment = "",
              region: Region = "") -> Response:
    require(viewer.member, Action.view_team)
    clock = Clock(viewer.tz)
    scope = reads.scope_for(owner_id=None, segment=segment, region=region)
    try:
        view = cached_weekly(session, viewer.member, week=week, scope=scope, cache=app_cache(request))
    except InvalidInput as exc:
        view, error = cached_weekly(session, viewer.member, week="", scope=scope, cache=app_cache(request)), exc.detail
    else:
        error = None
    tables = {t: weekly_view.rows(view, t) for t in weekly_view.TABLES if t != "history"}
    figures = cached_kpis(session, viewer.member, clock, app_cache(request))
    return page(request, "team.html", viewer, k=figures,
                w=view, tables=tables, charts=weekly_view.charts(view), week_error=error,
                filters={"week": week, "segment": segment, "region": region},
                segments=queries.segments(session, viewer.member), regions=queries.regions(session, viewer.member))


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
    body = weekly_view.to_csv(*weekly_view.rows(view, table))
    name = f"weekly-review-{view['week']}-{table}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
