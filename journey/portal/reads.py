"""The shared success plan as the customer reads it, built from customer-facing fields only: the plan's
milestones and tasks (title, dates, status, which side), the comments shared with them, the objectives
(KPI, baseline, target, due, validation), the upcoming reviews with the customer's agenda, and the CSM and AM
as contacts. No health, risks, notes, promises, sellers or other staff: nothing here reads them."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session

from journey.adapters.calendar import Invitation, Person, to_ics
from journey.models import Account, PlanTask, Review, ShareLink, TaskComment, TeamMember
from journey.onboarding import domain as plan_domain
from journey.onboarding import repository as plan_repository
from journey.portal import repository
from journey.reviews import agenda as agenda_service
from journey.reviews import invitations
from journey.reviews.agenda_domain import CustomerAgenda
from journey.worked import from_packet
from journey.worked.domain import side_of

STAFF_ROLES = ("ae", "se", "manager", "admin")


class PortalComment(BaseModel):
    at: datetime
    author: str  # the stakeholder's name, the CSM's or AM's, else "your vendor team"
    body: str


class PortalTask(BaseModel):
    id: int
    title: str
    due_on: date
    status: str
    side: str
    done_at: datetime | None
    can_mark_done: bool
    comments: list[PortalComment]


class PortalMilestone(BaseModel):
    name: str
    due_on: date
    status: str
    tasks: list[PortalTask]


class PortalObjective(BaseModel):
    id: int
    title: str
    kpi: str | None
    baseline: float | None
    target: float | None
    unit: str | None
    due_on: date | None
    source: str
    validated_by: str | None
    validated_at: datetime | None


class PortalReview(BaseModel):
    id: int
    title: str
    when: str
    purpose: str
    attendees: list[str]
    agenda: list[str]
    ics_url: str


class PortalContact(BaseModel):
    role: str
    name: str
    email: str


class PortalRead(BaseModel):
    account: str
    language: str | None
    stakeholder: str
    expires_at: datetime
    contacts: list[PortalContact]
    milestones: list[PortalMilestone]
    objectives: list[PortalObjective]
    reviews: list[PortalReview]


def portal_of(session: Session, link: ShareLink, *, today: date, token: str) -> PortalRead:
    account = session.get_one(Account, link.account_id)
    contacts = _contacts(session, account)
    journey = repository.current_journey(session, account.id)
    milestones: list[PortalMilestone] = []
    objectives: list[PortalObjective] = []
    reviews: list[PortalReview] = []
    if journey is not None:
        milestones = _milestones(session, journey.id, {c.email: c.name for c in contacts})
        objectives = [PortalObjective(id=o.id, title=o.title, kpi=o.kpi, baseline=o.baseline, target=o.target,
                                      unit=o.unit, due_on=o.due_on, source=o.source, validated_by=o.validated_by,
                                      validated_at=o.validated_at)
                      for o in repository.objectives_of(session, journey.id)]
        reviews = [_review(session, r, token) for r in repository.upcoming_reviews(session, journey.id, today=today)]
    return PortalRead(account=account.name, language=account.language, stakeholder=link.name,
                      expires_at=link.expires_at, contacts=contacts, milestones=milestones, objectives=objectives,
                      reviews=reviews)


def _contacts(session: Session, account: Account) -> list[PortalContact]:
    found = []
    for role, member_id in (("csm", account.csm_id), ("am", account.am_id)):
        member = session.get(TeamMember, member_id) if member_id else None
        if member is not None and member.active:
            found.append(PortalContact(role=role, name=member.name, email=member.email))
    return found


def _milestones(session: Session, journey_id: int, contacts: dict[str, str]) -> list[PortalMilestone]:
    tasks = [t for t in plan_repository.tasks_of(session, [journey_id]) if not from_packet.is_internal(t.key)]
    comments: dict[int, list[TaskComment]] = {}
    for c in repository.shared_comments(session, [t.id for t in tasks]):
        comments.setdefault(c.task_id, []).append(c)
    out = []
    for m in plan_repository.milestones_of(session, [journey_id]):
        mine = [t for t in tasks if t.milestone_id == m.id]
        status = plan_domain.milestone_status(plan_domain.TaskState(m.key, t.status, t.due_on) for t in mine)
        out.append(PortalMilestone(name=m.name, due_on=m.due_on, status=status,
                                   tasks=[_task(t, comments.get(t.id, []), contacts) for t in mine]))
    return out


def _task(t: PlanTask, comments: list[TaskComment], contacts: dict[str, str]) -> PortalTask:
    side = side_of(t.raci)
    return PortalTask(id=t.id, title=t.title, due_on=t.due_on, status=str(t.status), side=side, done_at=t.done_at,
                      can_mark_done=side == "customer" and str(t.status) in plan_domain.OPEN_STATUSES,
                      comments=[PortalComment(at=c.at, author=_author(c, contacts), body=c.body) for c in comments])


def _author(c: TaskComment, contacts: dict[str, str]) -> str:
    if c.author_kind == "customer":
        return c.author
    return contacts.get(c.author, "your vendor team")


def customer_agenda(session: Session, review: Review) -> CustomerAgenda:
    """The review's customer agenda, its attendees limited to the customer's people and the two contacts."""
    agenda = agenda_service.build_customer_agenda(session, review=review)
    return dataclasses.replace(agenda, attendees=tuple(
        a for a in agenda.attendees if not any(a.endswith(f"({r})") for r in STAFF_ROLES)))


def _review(session: Session, review: Review, token: str) -> PortalReview:
    agenda = customer_agenda(session, review)
    return PortalReview(id=review.id, title=agenda.title, when=agenda.when, purpose=agenda.purpose,
                        attendees=list(agenda.attendees), agenda=list(agenda.items),
                        ics_url=f"/p/{token}/reviews/{review.id}.ics")


def review_ics(session: Session, link: ShareLink, review_id: int, *, now: datetime) -> bytes | None:
    """The review's invitation as the customer downloads it; None when not an upcoming review of the link's."""
    journey = repository.current_journey(session, link.account_id)
    review = session.get(Review, review_id)
    if journey is None or review is None or review.journey_id != journey.id:
        return None
    invitation: Invitation = invitations.invitation_for(session, review=review, now=now)
    guests: tuple[Person, ...] = tuple(p for p in invitation.attendees if p.role not in STAFF_ROLES)
    description = agenda_service.render_customer_agenda(customer_agenda(session, review))
    return to_ics(dataclasses.replace(invitation, attendees=guests, description=description, url=None))
