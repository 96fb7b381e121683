"""A review's agendas, read from the database and rendered with the Jinja2 templates of `templates/reviews/`.

Two of them (see `agenda_domain`): the customer's (`build_customer_agenda`, `customer_agenda.*.j2`), which
invitations carry, and the team's (`build_agenda`, `agenda.*.j2`), with health, risks, promises and notes,
shown in the app and in e-mails to staff only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from journey import rendering
from journey.calendar import WorkCalendar, calendar_for
from journey.handoff import repository as handoff_repository
from journey.health import scores as health_scores
from journey.health import wording
from journey.kit import utcnow
from journey.models import Review, TeamMember
from journey.objectives import service as objectives_service
from journey.reviews import repository
from journey.reviews.agenda_domain import CustomerAgenda, InternalAgenda, customer_agenda, latest_progress

INTERNAL_ROLES = ("csm", "am", "ae", "se")


@dataclass(frozen=True)
class Attendee:
    email: str | None
    name: str
    role: str


def attendees_of(session: Session, review: Review) -> list[Attendee]:
    """The review's attendee roles resolved to people: the team by account and deal, the customer by
    stakeholder role. Roles nobody fills are left out."""
    account, deal = repository.parties(session, review)
    team_ids = {"csm": account.csm_id, "am": account.am_id, "ae": deal.ae_id, "se": deal.se_id}
    members = repository.members_by_ids(session, [i for i in team_ids.values() if i])
    people = repository.stakeholders_of(session, account.id)
    found: list[Attendee] = []
    for role in review.attendees or []:
        if role in INTERNAL_ROLES:
            member: TeamMember | None = members.get(team_ids[role]) if team_ids[role] else None
            if member is not None:
                found.append(Attendee(member.email, member.name, role))
        else:
            found += [Attendee(p.email, p.name, role) for p in people if p.role == role]
    return found


def build_customer_agenda(session: Session, *, review: Review) -> CustomerAgenda:
    """What the customer reads: built from the packet's objectives and the last review's next steps only."""
    account = repository.account_of(session, review)
    calendar = calendar_for(account.region, account.timezone)
    last = _last_held(session, review)
    return customer_agenda(
        review_id=review.id, title=review.title, account=account.name, when=_when(review, calendar),
        attendees=[f"{a.name} ({a.role})" for a in attendees_of(session, review)],
        objectives=_packet_content(session, review.journey_id).get("objectives") or [],
        previous_next_steps=(last.outcome_details or {}).get("next_steps") or [] if last else [])


def build_agenda(session: Session, *, review: Review) -> InternalAgenda:
    """What the team prepares with: objectives with their measurements and status, health, risks, promises,
    the SE's notes and what the last review left open, expansion included."""
    account = repository.account_of(session, review)
    calendar = calendar_for(account.region, account.timezone)
    content = _packet_content(session, review.journey_id)
    held = [r for r in repository.held_of_account(session, account.id) if r.id != review.id]
    said = latest_progress([(calendar.local_date(r.held_at), r.outcome_details or {})
                                   for r in held if r.held_at])
    measured = _measured(session, review=review, today=calendar.local_date(utcnow()))
    objectives = []
    for o in content.get("objectives") or []:
        key = str(o.get("title", "")).strip().casefold()
        status, latest = measured.get(key, (None, None))
        objectives.append({**o, "latest": latest or said.get(key), "status": status})
    last = held[0].outcome_details or {} if held else {}
    return InternalAgenda(
        review_id=review.id, title=review.title, account=account.name, when=_when(review, calendar),
        attendees=[f"{a.name} ({a.role})" for a in attendees_of(session, review)],
        objectives=objectives, risks=list(content.get("risks") or []),
        promises=list(content.get("promises") or []),
        previous_next_steps=list(last.get("next_steps") or []),
        previous_expansion=list(last.get("expansion_opportunities") or []),
        health=_health(session, account_id=account.id), se_notes=content.get("se_notes") or None,
    )


def _last_held(session: Session, review: Review) -> Review | None:
    """The account's latest held review other than this one."""
    return next((r for r in repository.held_of_account(session, review.account_id) if r.id != review.id), None)


def _when(review: Review, calendar: WorkCalendar) -> str:
    if review.starts_at is None:
        return f"due {review.due_on:%A %d %B %Y}"
    return f"{review.starts_at.astimezone(calendar.zone):%A %d %B %Y, %H:%M} ({calendar.timezone})"


def _health(session: Session, *, account_id: int) -> dict[str, Any] | None:
    """The account's score with its explanation and the three factors that cost the most points."""
    h = health_scores.account_health(session, account_id=account_id, now=utcnow())
    scored = [c for c in h["contributions"] if c.get("points") is not None and c.get("weight")]
    if not scored:
        return None
    costly = sorted(scored, key=lambda c: c["points"] - c["weight"])[:3]
    lines = [h["explanation"]] + [f"{c.get('label') or wording.factor_label(c['factor'])}: "
                                  f"{c['points']:.0f} of {c['weight']:.0f} points"
                                  for c in costly if c["points"] < c["weight"]]
    return {"score": round(h["score"]), "band": h["band"], "explanation": lines}


def _measured(session: Session, *, review: Review, today: date) -> dict[str, tuple[dict[str, Any], dict | None]]:
    """Per objective title: its assessed status and its latest measurement (signal, review or by hand)."""
    found: dict[str, tuple[dict[str, Any], dict | None]] = {}
    for view in objectives_service.objectives_of_account(session, account_id=review.account_id, today=today):
        if view.objective.journey_id != review.journey_id:
            continue
        last = view.progress[-1] if view.progress else None
        latest = ({"value": last.value, "on": last.at.date(), "comment": last.note, "source": last.source}
                  if last else None)
        status = {"status": view.assessment.status, "reason": view.assessment.reason}
        found[view.objective.title.strip().casefold()] = (status, latest)
    return found


def _packet_content(session: Session, journey_id: int) -> dict[str, Any]:
    """The latest version of the journey's handoff packet (empty if it has none)."""
    packet = handoff_repository.packet_for_journey(session, journey_id)
    if packet is None:
        return {}
    version = handoff_repository.version(session, packet.id, packet.version)
    return dict(version.content) if version else {}


def _render(name: str, agenda: Any) -> str:
    template = rendering.environment("reviews", trim=False).get_template(name)
    return template.render(agenda=agenda).strip() + "\n"


def render_agenda(agenda: InternalAgenda, *, html: bool = False) -> str:
    """The team's agenda (`reviews/agenda.md.j2` or `.html.j2`): for the app and staff only."""
    return _render("agenda.html.j2" if html else "agenda.md.j2", agenda)


def render_customer_agenda(agenda: CustomerAgenda, *, html: bool = False) -> str:
    """The customer's agenda (`reviews/customer_agenda.md.j2` or `.html.j2`): what invitations carry."""
    return _render("customer_agenda.html.j2" if html else "customer_agenda.md.j2", agenda)
