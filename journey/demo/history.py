"""The months behind the demo, once its deals went through the real webhook route and flows: plans kept on
time or late, packets accepted, reviews held with their outcomes and the opportunities they raised, 90 days
of usage signals scored into a health line, reminders waiting for every role, and 12 weeks of KPI
snapshots. Rows are written in batches (one statement per kind), relative to `now`."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from journey import db
from journey.audit import Actor
from journey.demo.story import CHURNED, ESCALATED, EXPANDED, REGIONS, Customer, signals
from journey.health import service as health_service
from journey.kpis import service as kpis_service
from journey.models import (
    Account,
    HandoffPacket,
    Journey,
    Milestone,
    Opportunity,
    PacketAcknowledgement,
    PlanTask,
    Review,
    Signal,
    TaskStatus,
    TeamMember,
)
from journey.notify.service import Reminding, remind_many

HEALTH_EVERY_DAYS = 7  # a score a week over 90 days: a line, without scoring 90 times
# review outcomes: (title, amount, stage) raised at a held review, by account number (others: none)
REVIEW_OPPORTUNITIES = {
    EXPANDED: [("Analytics add-on", 9000, "won"), ("Second support team (120 seats)", 36000, "proposed")],
    2: [("Premium SLA", 6000, "open")], 5: [("EMEA rollout (300 seats)", 60000, "proposed")],
    7: [("Workforce planning module", 24000, "open")], 8: [("Extra 40 seats", 8000, "won")],
    9: [("Premium SLA", 9000, "lost")], 13: [("APAC team (200 seats)", 45000, "open")],
    17: [("Knowledge base add-on", 15000, "proposed")], 11: [("Sandbox environment", 4000, "open")],
}

RAISED_THIS_WEEK = ("Chat channel add-on", 18000, 21)  # (title, amount, account number): added by the AM this week


def build(session: Session, *, people: Sequence[Customer], now: datetime) -> dict[str, int]:
    """Everything after signing, for the demo accounts; returns what was written."""
    ids = dict(session.execute(select(Account.domain, Account.id).where(
        Account.domain.in_([c.domain for c in people]))).all())
    by_account = {ids[c.domain]: c for c in people if c.domain in ids}
    members = {m.email: m for m in session.scalars(select(TeamMember))}
    done = {"tasks": _plans(session, by_account, now), "packets": _packets(session, by_account, members, now),
            "opportunities": _reviews(session, by_account, now)}
    rows = [{**r, "account_id": a, "source": "demo", "received_at": now}
            for a, c in by_account.items() for r in signals(c, now)]
    db.insert_rows(session, Signal, rows)  # new accounts, new signals: one executemany, nothing to return
    done["signals"] = len(rows)
    actor = Actor.flow("demo")
    for ago in range(90 - 90 % HEALTH_EVERY_DAYS, 0, -HEALTH_EVERY_DAYS):  # the health line, oldest first
        health_service.recompute(session, account_ids=list(by_account), now=now - timedelta(days=ago), actor=actor,
                                 alerts=False)
    health_service.recompute(session, account_ids=list(by_account), now=now, actor=actor)  # today, alerts too
    done["reminders"] = _reminders(session, {c.n: a for a, c in by_account.items()}, members, now)
    done["snapshots"] = sum(n for _, n in kpis_service.backfill(session, weeks=12, now=now))
    return done


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _plans(session: Session, by_account: dict[int, Customer], now: datetime) -> int:
    """Tasks due by now are done: by their due date on an on-time plan; days late (and a few still open)
    on a late one; a churned account's stop when its deal was lost. Milestones whose tasks are all done
    are complete (the value milestone's date is time-to-value)."""
    stmt = (select(PlanTask.id, PlanTask.milestone_id, PlanTask.due_on, Journey.account_id)
            .join(Journey, Journey.id == PlanTask.journey_id).where(Journey.account_id.in_(list(by_account))))
    updates, open_milestones, finished = [], set(), {}
    for task_id, milestone_id, due_on, account_id in session.execute(stmt):
        c = by_account[account_id]
        stop = now - timedelta(days=35) if c.n == CHURNED else now
        at = _at(due_on, 15) + (timedelta(days=3 + (task_id * 7) % 10) if c.late else -timedelta(days=task_id % 2))
        if due_on > stop.date() or at > stop or (c.late and task_id % 5 == 0):
            open_milestones.add(milestone_id)
            continue
        updates.append({"id": task_id, "status": TaskStatus.done, "started_at": at - timedelta(days=2),
                        "done_at": at})
        finished[milestone_id] = max(finished.get(milestone_id, at), at)
    if updates:
        session.execute(update(PlanTask), updates)
    complete = [{"id": m, "completed_at": at} for m, at in finished.items() if m not in open_milestones]
    if complete:
        session.execute(update(Milestone), complete)
    return len(updates)


def _packets(session: Session, by_account: dict[int, Customer], members: dict[str, TeamMember],
             now: datetime) -> int:
    """Packets filled enough (60 %) of customers signed over two weeks ago were accepted by their CSM and AM."""
    rows = session.execute(
        select(HandoffPacket.id, HandoffPacket.account_id, HandoffPacket.version, HandoffPacket.completeness)
        .where(HandoffPacket.account_id.in_(list(by_account))))
    acks, accepted = [], []
    for packet_id, account_id, version, completeness in rows:
        c = by_account[account_id]
        if completeness < 60 or c.signed_days_ago < 14:
            continue
        at = now - timedelta(days=c.signed_days_ago - 3)
        _, csm, am = REGIONS[c.region]
        acks += [PacketAcknowledgement(packet_id=packet_id, version=version, role=role, member_id=members[email].id,
                                       decision="accept", at=at) for role, email in (("csm", csm), ("am", am))]
        accepted.append({"id": packet_id, "state": "accepted"})
    session.add_all(acks)
    if accepted:
        session.execute(update(HandoffPacket), accepted)
    return len(accepted)


def _reviews(session: Session, by_account: dict[int, Customer], now: datetime) -> int:
    """Reviews due before today were held (a customer running late missed its last one), with an outcome;
    some raised an expansion opportunity the AM has since moved along."""
    stmt = (select(Review).where(Review.account_id.in_(list(by_account)), Review.due_on < now.date())
            .order_by(Review.due_on))
    opportunities: list[Opportunity] = []
    to_raise = dict(REVIEW_OPPORTUNITIES)
    for review in session.scalars(stmt):
        c = by_account[review.account_id]
        held = _at(review.due_on, 10)
        if c.late and review.due_on > (now - timedelta(days=30)).date():
            review.status, review.missed_at = "missed", held + timedelta(days=1)
            continue
        review.status, review.held_at = "held", held
        raised = to_raise.pop(c.n, [])
        review.outcome = ("Adoption ahead of plan; the team asked about more seats." if raised else
                          "On track: objectives reviewed, next steps agreed.")
        review.outcome_details = {"progress": [], "next_steps": ["Share the adoption report"],
                                  "expansion_opportunities": [t for t, _, _ in raised]}
        for title, amount, stage in raised:
            closed = now - timedelta(days=20) if stage in ("won", "lost") else None  # in the retention period
            opportunities.append(Opportunity(account_id=review.account_id, title=title, amount=Decimal(amount),
                                             stage=stage, source="review", review_id=review.id, created_at=held,
                                             updated_at=closed or held, closed_at=closed))
    opportunities += _raised_this_week({c.n: a for a, c in by_account.items()}, now)
    session.add_all(opportunities)
    session.flush()
    return len(opportunities)


def _raised_this_week(account: dict[int, int], now: datetime) -> list[Opportunity]:
    """An opportunity the AM added this week (Monday morning, or now if earlier): the week's pipeline moves,
    so the weekly review's week-over-week change says something."""
    title, amount, n = RAISED_THIS_WEEK
    if n not in account:
        return []
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(0), tzinfo=UTC)
    at = min(now, monday + timedelta(hours=9))
    return [Opportunity(account_id=account[n], title=title, amount=Decimal(amount), stage="open", source="manual",
                        created_at=at, updated_at=at)]


def _reminders(session: Session, account: dict[int, int], members: dict[str, TeamMember], now: datetime) -> int:
    """Something waiting for every role, in a sentence with the numbers."""
    due = now + timedelta(hours=4)
    items: list[tuple[str, str, int | None, str]] = [
        ("csm@demo.example", "review_reminder", account.get(2), "Quarterly review with Société Générale d'Exemple "
         "in 3 days: prepare the adoption report (62 % of seats active)."),
        ("csm.us@demo.example", "review_reminder", account.get(EXPANDED), "Business review with Globex Corporation "
         "next week: confirm the second support team's start date."),
        ("am@demo.example", "expansion_opportunity", account.get(5), "Hooli Cloud uses 96 % of its seats: "
         "propose the EMEA rollout (60,000 in the pipeline)."),
        ("am.us@demo.example", "expansion_opportunity", account.get(EXPANDED), "Globex Corporation: the second "
         "support team (36,000) was proposed 3 weeks ago; follow up with the COO."),
        ("ae@demo.example", "packet_incomplete", account.get(28), "Complete the handoff packet of Kwik Mart: the "
         "customer's goals and risks are missing (the CSM cannot accept it yet)."),
        ("manager@demo.example", "escalation", account.get(ESCALATED), "Initech Ltd has had an escalation open for "
         "6 days and an invoice 41 days overdue: decide who calls the sponsor."),
        ("revops@demo.example", "data_quality", account.get(CHURNED), "Umbrella Retail's deal was lost 5 weeks ago "
         "(36,000): confirm the churn reason in the CRM before the quarter's retention report."),
    ]
    batch = [Reminding(kind=kind, assignee=members[email], account_id=account_id, due_at=due, reason=reason,
                       dedupe_key=f"demo:{kind}:{email}", channels=())
             for email, kind, account_id, reason in items if email in members]
    return len(remind_many(session, batch, now=now))
