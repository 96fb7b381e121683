"""The account page: the CSM + AM pair, contract and go-live, health with its explanation, the plan with
tasks to check off, objectives with their progress, reviews and reminders."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from journey import db
from journey.accounts import access
from journey.accounts import read_repository as accounts_read
from journey.accounts.endpoints import visible_account
from journey.deps import ReadSession, RowId
from journey.handoff import repository as handoff_repository
from journey.health import scores as health_scores
from journey.health import service as health_service
from journey.kit import utcnow
from journey.kpis import repository as kpis_repository
from journey.models import Account
from journey.notify import read_repository as reminders_read
from journey.onboarding import golive
from journey.onboarding import reads as onboarding_reads
from journey.onboarding import service as onboarding_service
from journey.policy import Action
from journey.reviews import repository as reviews_repository
from journey.team import repository as team_repository
from journey.web import charts, health_view, objectives_view, worked_view
from journey.web.auth import FormViewer, PageViewer, Viewer
from journey.web.render import Clock, page

router = APIRouter(include_in_schema=False)


@router.get("/accounts/{ref}")
def account_page(request: Request, ref: str, viewer: PageViewer, session: ReadSession) -> Response:
    account = visible_account(session, ref, viewer.member)
    return page(request, "account.html", viewer, **account_context(session, account, viewer))


def account_context(session: Session, account: Account, viewer: Viewer) -> dict[str, Any]:
    today = Clock(viewer.tz).today
    people = team_repository.by_ids(session, {i for i in (account.csm_id, account.am_id) if i})
    journey, deal = accounts_read.journeys(session, [account.id]).get(account.id, (None, None))
    # The plan of the latest journey, as GET /api/accounts/{id}/plan reads it (the account is already
    # checked visible; its latest journey is the one just read, no max(id) over every journey).
    plan = onboarding_reads.plan_of(session, journey, account, today=utcnow().date()) if journey else None
    health = health_view.detail(session, account.id, utcnow())
    packet = handoff_repository.latest_packet_for_account(session, account.id)
    return {
        "account": account, "csm": people.get(account.csm_id or 0), "am": people.get(account.am_id or 0),
        "journey": journey, "deal": deal, "plan": plan, "packet": packet, "health": health,
        "plan_on_time": health_scores.plan_on_time_words(session, account_id=account.id, today=utcnow().date())
        if plan else None,
        "chart": charts.score_chart(health["history"]) if health else None,
        "bars": charts.contribution_bars(health["contributions"]) if health else [],
        "objectives": objectives_view.of_account(session, account.id, packet),
        "reviews": reviews_repository.of_account(session, account.id),
        "reminders": reminders_read.reminders_of_account(session, account.id),
        "may": access.may(session, account, viewer.member, Action.move_go_live, Action.complete_task,
                          Action.override_health, Action.edit_opportunity, Action.assign_task, Action.comment_task,
                          Action.manage_share_links),
        "bands": health_service.band_names(),
        "opportunities": kpis_repository.opportunities_of(session, account.id),
        **worked_view.context(session, account, plan),
        "titles": {t.key: t.title for m in (plan.milestones if plan else []) for t in m.tasks},
        "overdue": {t.id for m in (plan.milestones if plan else []) for t in m.tasks
                    if t.status in ("todo", "in_progress") and t.due_on < today},
    }


@router.post("/accounts/{ref}/tasks/{task_id}")
def update_task(ref: str, task_id: RowId, viewer: FormViewer, action: Annotated[str, Form(max_length=16)] = "done",
                reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Start, check off, skip or reopen a task through the onboarding service, which owns the rules."""

    with db.transaction() as session:
        account = access.account_for(session, ref, viewer.member, Action.complete_task)
        onboarding_service.update_task(session, task_id=task_id, member=viewer.member, action=action,
                                       reason=reason.strip() or None, assignee=None, now=utcnow())
    notice = {"done": "task_done", "reopen": "task_reopened", "start": "task_started", "skip": "task_skipped"}
    return RedirectResponse(f"/accounts/{account.id}?notice={notice.get(action, 'task_done')}#task-{task_id}",
                            status_code=303)


@router.post("/accounts/{ref}/go-live")
def move_go_live(ref: str, viewer: FormViewer, date_: Annotated[date, Form(alias="date")],
                 reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Move the expected go-live with a reason, through the same use case as PUT /api/accounts/{id}/go-live."""
    with db.transaction() as session:
        account = access.account_for(session, ref, viewer.member, Action.move_go_live)
        golive.set_go_live(session, account=account, member=viewer.member, new_go_live=date_, reason=reason,
                           now=utcnow())
    return RedirectResponse(f"/accounts/{account.id}?notice=go_live_moved#slips", status_code=303)


@router.post("/accounts/{ref}/health/override")
def override_health(ref: str, viewer: FormViewer, band: Annotated[str, Form(max_length=32)],
                    reason: Annotated[str, Form(max_length=2000)] = "",
                    days: Annotated[int, Form(ge=1, le=366)] = 30) -> Response:
    """Set the band by hand with a reason, for `days` days, as PUT /api/accounts/{id}/health/override."""
    from datetime import timedelta

    now = utcnow()
    with db.transaction() as session:
        account = visible_account(session, ref, viewer.member)
        health_service.override_band(session, account=account, member=viewer.member, band=band, reason=reason,
                                     expires_on=now.date() + timedelta(days=days), now=now)
    return RedirectResponse(f"/accounts/{account.id}?notice=health_overridden#health", status_code=303)


@router.post("/accounts/{ref}/health/override/clear")
def clear_health_override(ref: str, viewer: FormViewer) -> Response:
    with db.transaction() as session:
        account = visible_account(session, ref, viewer.member)
        health_service.clear_band_override(session, account=account, member=viewer.member, now=utcnow())
    return RedirectResponse(f"/accounts/{account.id}?notice=health_override_cleared#health", status_code=303)
