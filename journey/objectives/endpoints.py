"""Objectives of an account with measured progress and status; record a measurement."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from journey import db
from journey.accounts.access import account_for
from journey.accounts.endpoints import visible_account
from journey.accounts.schemas import Page
from journey.audit import Actor
from journey.deps import CurrentMember, ReadSession, RowId
from journey.kit import utcnow
from journey.models import Account
from journey.objectives import service
from journey.policy import Action

router = APIRouter(prefix="/api", tags=["objectives"])


class ProgressRead(BaseModel):
    at: datetime
    value: float
    source: str
    note: str | None
    recorded_by: str


class ObjectiveRead(BaseModel):
    id: int
    journey_id: int
    title: str
    kpi: str | None
    baseline: float | None
    target: float | None
    unit: str | None
    due: date | None
    source: str
    metric: str | None = Field(description="signals of this metric sent to POST /api/signals record progress")
    status: str = Field(description="on_track, at_risk, achieved, missed")
    progress: float | None = Field(description="0 at the baseline, 1 at the target")
    expected: float | None = Field(description="where a straight line from signature to due puts it today")
    reason: str
    measurements: list[ProgressRead]
    validated_by: str | None = Field(default=None, description="the customer who validated it on the shared plan")
    validated_at: datetime | None = None


class ProgressCreate(BaseModel):
    value: float
    at: datetime | None = None
    source: str = "manual"
    note: str | None = Field(default=None, max_length=2000)


def _read(view: service.ObjectiveView) -> ObjectiveRead:
    o, a = view.objective, view.assessment
    return ObjectiveRead(id=o.id, journey_id=o.journey_id, title=o.title, kpi=o.kpi, baseline=o.baseline,
                         target=o.target, unit=o.unit, due=o.due_on, source=o.source, metric=o.metric,
                         status=a.status,
                         progress=a.progress, expected=a.expected, reason=a.reason,
                         measurements=[ProgressRead(at=p.at, value=p.value, source=p.source, note=p.note,
                                                    recorded_by=p.recorded_by) for p in view.progress],
                         validated_by=o.validated_by, validated_at=o.validated_at)


def _list(session: Session, account: Account) -> Page[ObjectiveRead]:
    views = service.objectives_of_account(session, account_id=account.id, today=utcnow().date())
    return Page(items=[_read(v) for v in views], next=None)


@router.get("/accounts/{ref}/objectives", response_model=Page[ObjectiveRead])
def list_objectives(ref: str, session: ReadSession, member: CurrentMember) -> Page[ObjectiveRead]:
    """The client's business objectives (from the handoff packet) with their measured progress."""
    return _list(session, visible_account(session, ref, member))


@router.post("/accounts/{ref}/objectives/{objective_id}/progress", response_model=ObjectiveRead,
             status_code=201)
def record_progress(ref: str, objective_id: RowId, body: ProgressCreate, member: CurrentMember) -> ObjectiveRead:
    """Record a measured KPI value (`source`: manual, review or signal); the status follows."""
    now = utcnow()
    with db.transaction() as session:
        account = account_for(session, ref, member, Action.record_objective_progress)
        view = service.record_progress(session, objective_id=objective_id, account_id=account.id, value=body.value,
                                       at=body.at or now, source=body.source, note=body.note,
                                       actor=Actor.user(member.email), now=now)
        return _read(view)
