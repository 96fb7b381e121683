"""The team dashboard: five shared KPIs for the weekly review, over the viewer's book (everything for
managers and admins)."""
from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from journey.deps import ReadSession
from journey.kit import utcnow
from journey.models import TeamMember
from journey.onboarding import lifecycle
from journey.policy import Action, require, sees_every_account
from journey.web import health_view, queries
from journey.web.auth import PageViewer
from journey.web.render import Clock, page

router = APIRouter(include_in_schema=False)
KPI_TTL_SECONDS = 60
_cache: dict[str, tuple[float, dict[str, Any]]] = {}
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


def cached_kpis(session: Session, member: TeamMember, clock: Clock) -> dict[str, Any]:
    """The KPIs, computed at most once a minute per book (they aggregate every task of every account: a
    weekly-review figure does not need to be recomputed on each page view). In memory, per process."""
    scope = "all" if sees_every_account(member) else f"member:{member.id}"
    now = time.monotonic()
    with _lock:
        hit = _cache.get(scope)
    if hit is not None and now - hit[0] < KPI_TTL_SECONDS:
        return hit[1]
    figures = {**kpis(session, member, clock), "as_of": utcnow()}
    with _lock:
        if len(_cache) > 5000:
            _cache.clear()
        _cache[scope] = (now, figures)
    return figures


@router.get("/team")
def dashboard(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    require(viewer.member, Action.view_team)
    clock = Clock(viewer.tz)
    return page(request, "team.html", viewer, k=cached_kpis(session, viewer.member, clock),
                bands=health_view.BANDS)
