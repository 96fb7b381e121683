"""Every query of the CRM write-back: which CRM records an account has, the queue, and the facts written."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from journey.db import dialect_insert
from journey.models import (
    Account,
    CrmIdentity,
    CrmWrite,
    Deal,
    HandoffPacket,
    HealthHistory,
    HealthScore,
    Journey,
    Objective,
    PlanTask,
    Review,
    TeamMember,
)
from journey.models.base import UTCDateTime
from journey.onboarding.lifecycle import TaskOutcome
from journey.writeback.domain import TREND_DAYS, AccountFacts, JourneyFacts, ReviewFact

SYNTHETIC_ACCOUNT_PREFIXES = ("deal-", "opportunity-")  # accounts named after a deal have no CRM company


@dataclass(frozen=True)
class ObjectRef:
    crm: str
    object_type: str  # deal, company
    object_id: str
    account_id: int
    deal_id: int | None


@dataclass(frozen=True)
class Claim:
    id: int
    crm: str
    object_type: str
    object_id: str
    account_id: int
    deal_id: int | None
    version: int
    attempts: int
    changed_at: datetime | None
    acked_at: datetime | None
    sent_values: dict[str, Any]


def _insert(session: Session) -> Any:
    return dialect_insert(session.get_bind().dialect.name, CrmWrite.__table__)


def crm_objects(session: Session, account_ids: Sequence[int], crms: Iterable[str]) -> list[ObjectRef]:
    """The CRM deals of the accounts, and the accounts that are themselves CRM companies, in these CRMs."""
    crms = list(crms)
    if not account_ids or not crms:
        return []
    deals = session.execute(select(Deal.crm_source, Deal.crm_external_id, Deal.account_id, Deal.id)
                            .where(Deal.account_id.in_(account_ids), Deal.crm_source.in_(crms)))
    refs = [ObjectRef(s, "deal", e, a, d) for s, e, a, d in deals]
    companies = session.execute(select(Account.crm_source, Account.crm_external_id, Account.id)
                                .where(Account.id.in_(account_ids), Account.crm_source.in_(crms)))
    refs += [ObjectRef(s, "company", e, a, None) for s, e, a in companies
             if not e.startswith(SYNTHETIC_ACCOUNT_PREFIXES)]
    return refs


def mark(session: Session, refs: Sequence[ObjectRef], *, now: datetime) -> None:
    """One pending row per record, coalesced: a row already waiting keeps its turn, a dead one stays dead
    (until `resend` or `journey crm sync`); `version` tells the drainer that something changed meanwhile."""
    if not refs:
        return
    stmt = _insert(session)
    table = CrmWrite.__table__.c
    stmt = stmt.on_conflict_do_update(index_elements=["crm", "object_type", "object_id"], set_={
        "version": table.version + 1,
        "account_id": stmt.excluded.account_id, "deal_id": stmt.excluded.deal_id,
        "changed_at": func.coalesce(table.changed_at, stmt.excluded.changed_at),
        "status": case((table.status == "dead", "dead"), else_="pending"),
        "due_at": case((and_(table.status == "pending", table.due_at.is_not(None)), table.due_at),
                       else_=stmt.excluded.due_at)})
    rows = [{"crm": r.crm, "object_type": r.object_type, "object_id": r.object_id, "account_id": r.account_id,
             "deal_id": r.deal_id, "status": "pending", "version": 1, "changed_at": now, "due_at": now,
             "attempts": 0, "sent_values": {}, "created_at": now} for r in _unique(refs)]
    session.execute(stmt, rows)


def forget_sent(session: Session, refs: Sequence[ObjectRef]) -> None:
    """The next write of these records sends every property again (the nightly repair of drift)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for ref in refs:
        groups.setdefault((ref.crm, ref.object_type), []).append(ref.object_id)
    for (crm, object_type), ids in groups.items():
        session.execute(update(CrmWrite).where(CrmWrite.crm == crm, CrmWrite.object_type == object_type,
                                               CrmWrite.object_id.in_(ids)).values(sent_values={})
                        .execution_options(synchronize_session=False))


def _unique(refs: Sequence[ObjectRef]) -> list[ObjectRef]:
    return list({(r.crm, r.object_type, r.object_id): r for r in refs}.values())


def revive(session: Session, *, crm: str | None = None, account_ids: Sequence[int] | None = None,
           row_id: int | None = None, now: datetime) -> int:
    """Dead rows (all, a CRM's, some accounts', or one) pending again, due now: a person's decision."""
    stmt = update(CrmWrite).where(CrmWrite.status == "dead")
    if crm is not None:
        stmt = stmt.where(CrmWrite.crm == crm)
    if account_ids is not None:
        stmt = stmt.where(CrmWrite.account_id.in_(account_ids))
    if row_id is not None:
        stmt = stmt.where(CrmWrite.id == row_id)
    stmt = stmt.values(status="pending", due_at=now, attempts=0, locked_until=None,
                       changed_at=func.coalesce(CrmWrite.changed_at, now))
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0


def count_due(session: Session, *, now: datetime) -> int:
    """Writes waiting to be sent now, every CRM together."""
    stmt = select(func.count()).select_from(CrmWrite).where(CrmWrite.status == "pending", CrmWrite.due_at <= now)
    return int(session.scalar(stmt) or 0)


def claim_due(session: Session, *, crm: str, now: datetime, limit: int, lease: timedelta) -> list[Claim]:
    """Lease up to `limit` due rows of one CRM in one statement (deal rows and company rows together)."""
    due = (select(CrmWrite.id).where(CrmWrite.crm == crm, CrmWrite.status == "pending", CrmWrite.due_at <= now,
                                     or_(CrmWrite.locked_until.is_(None), CrmWrite.locked_until < now))
           .order_by(CrmWrite.due_at, CrmWrite.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (update(CrmWrite).where(CrmWrite.id.in_(due.scalar_subquery()))
            .values(locked_until=now + lease, attempts=CrmWrite.attempts + 1)
            .returning(CrmWrite.id, CrmWrite.crm, CrmWrite.object_type, CrmWrite.object_id, CrmWrite.account_id,
                       CrmWrite.deal_id, CrmWrite.version, CrmWrite.attempts, CrmWrite.changed_at,
                       CrmWrite.acked_at, CrmWrite.sent_values)
            .execution_options(synchronize_session=False))
    claims = [Claim(*row) for row in session.execute(stmt)]
    return sorted((_aware_claim(c) for c in claims), key=lambda c: c.id)


def _aware_claim(claim: Claim) -> Claim:
    """RETURNING bypasses the column type on SQLite: times come back naive (they are UTC)."""
    return replace(claim, changed_at=_aware(claim.changed_at), acked_at=_aware(claim.acked_at),
                   sent_values=claim.sent_values if isinstance(claim.sent_values, dict) else {})


def _aware(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)


def record(session: Session, claim: Claim, **values: Any) -> None:
    """Settle a claimed row; `pending_if_changed`: back to pending (due `due_at`) when it changed meanwhile."""
    after = values.pop("pending_if_changed", None)
    stmt = update(CrmWrite).where(CrmWrite.id == claim.id).values(locked_until=None, **values)
    if after is not None:
        same = CrmWrite.version == claim.version
        stmt = stmt.values(status=case((same, "idle"), else_="pending"),
                           changed_at=case((same, None), else_=CrmWrite.changed_at),
                           due_at=case((same, None), else_=after))
    session.execute(stmt.execution_options(synchronize_session=False))


def rows(session: Session, *, status: str | None, crm: str | None = None, account_id: int | None = None,
         limit: int = 50) -> Sequence[CrmWrite]:
    stmt = select(CrmWrite).order_by(CrmWrite.id).limit(limit)
    if status:
        stmt = stmt.where(CrmWrite.status == status)
    if crm:
        stmt = stmt.where(CrmWrite.crm == crm)
    if account_id is not None:
        stmt = stmt.where(CrmWrite.account_id == account_id)
    return session.scalars(stmt).all()


def summary(session: Session) -> list[dict[str, Any]]:
    """Per CRM: rows by status, and the lag (seconds) of the last acknowledged writes: average and maximum."""
    stmt = (select(CrmWrite.crm, CrmWrite.status, func.count(), func.sum(CrmWrite.lag_seconds),
                   func.count(CrmWrite.lag_seconds), func.max(CrmWrite.lag_seconds))
            .group_by(CrmWrite.crm, CrmWrite.status))
    result: dict[str, dict[str, Any]] = {}
    lags: dict[str, tuple[float, int]] = {}
    for crm, status, count, total, measured, peak in session.execute(stmt):
        entry = result.setdefault(crm, {"crm": crm, "pending": 0, "idle": 0, "dead": 0, "lag_avg": None,
                                        "lag_max": None})
        entry[status] = count
        if measured:
            before = lags.get(crm, (0.0, 0))
            lags[crm] = (before[0] + float(total), before[1] + int(measured))
            entry["lag_max"] = max(entry["lag_max"] or 0.0, float(peak))
            entry["lag_avg"] = lags[crm][0] / lags[crm][1]
    return sorted(result.values(), key=lambda e: e["crm"])


def sent_values_of(session: Session, *, crm: str, object_type: str, object_id: str) -> CrmWrite | None:
    return session.scalars(select(CrmWrite).where(CrmWrite.crm == crm, CrmWrite.object_type == object_type,
                                                  CrmWrite.object_id == object_id)).first()


def account_ids_after(session: Session, after_id: int, limit: int, *, crms: Sequence[str],
                      account_id: int | None = None) -> list[int]:
    stmt = (select(Account.id).where(Account.id > after_id).order_by(Account.id).limit(limit)
            .where(or_(Account.crm_source.in_(crms),
                       Account.id.in_(select(Deal.account_id).where(Deal.crm_source.in_(crms))))))
    if account_id is not None:
        stmt = stmt.where(Account.id == account_id)
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------------------------- facts
def account_facts(session: Session, account_ids: Sequence[int], *, today: date,
                  base_url: str | None) -> dict[int, AccountFacts]:
    """What the values are computed from, for a batch of accounts, in eight set-based queries."""
    if not account_ids:
        return {}
    csm, am = aliased(TeamMember), aliased(TeamMember)
    people = session.execute(select(Account.id, csm.email, am.email).outerjoin(csm, csm.id == Account.csm_id)
                             .outerjoin(am, am.id == Account.am_id).where(Account.id.in_(account_ids)))
    scores = {a: (s, b) for a, s, b in session.execute(
        select(HealthScore.account_id, HealthScore.score, HealthScore.band)
        .where(HealthScore.account_id.in_(account_ids)))}
    before = _scores_around(session, account_ids, today - timedelta(days=TREND_DAYS))
    journeys = _journeys(session, account_ids)
    base = (base_url or "").rstrip("/")
    result = {}
    for account_id, csm_email, am_email in people:
        score, band = scores.get(account_id, (None, None))
        result[account_id] = AccountFacts(
            account_id=account_id, score=score, band=band, score_30_days_ago=before.get(account_id),
            csm_email=csm_email, am_email=am_email, url=f"{base}/accounts/{account_id}" if base else None,
            journeys=journeys.get(account_id, {}))
    return result


def _scores_around(session: Session, account_ids: Sequence[int], day: date) -> dict[int, float]:
    """Each account's score of `day`, or of the last day with a score in the week before it."""
    stmt = (select(HealthHistory.account_id, HealthHistory.day, HealthHistory.score)
            .where(HealthHistory.account_id.in_(account_ids), HealthHistory.day <= day,
                   HealthHistory.day > day - timedelta(days=7)))
    best: dict[int, tuple[date, float]] = {}
    for account_id, on, score in session.execute(stmt):
        if account_id not in best or on > best[account_id][0]:
            best[account_id] = (on, score)
    return {a: s for a, (_, s) in best.items()}


def _journeys(session: Session, account_ids: Sequence[int]) -> dict[int, dict[int, JourneyFacts]]:
    rows_ = session.execute(select(Journey.id, Journey.account_id, Journey.deal_id, Journey.status,
                                   Journey.go_live_on, Deal.expected_go_live).join(Deal, Deal.id == Journey.deal_id)
                            .where(Journey.account_id.in_(account_ids))).all()
    ids = [r[0] for r in rows_]
    if not ids:
        return {}
    tasks: dict[int, list[TaskOutcome]] = {}
    for j, status, due_on, done_at in session.execute(select(PlanTask.journey_id, PlanTask.status, PlanTask.due_on,
                                                             PlanTask.done_at).where(PlanTask.journey_id.in_(ids))):
        tasks.setdefault(j, []).append(TaskOutcome(str(status), due_on, done_at.date() if done_at else None))
    packets = dict(session.execute(select(HandoffPacket.journey_id, HandoffPacket.state)
                                   .where(HandoffPacket.journey_id.in_(ids))).all())
    reviews: dict[int, list[ReviewFact]] = {}
    for j, kind, status, due_on, starts_at, held_at in session.execute(
            select(Review.journey_id, Review.kind, Review.status, Review.due_on, Review.starts_at, Review.held_at)
            .where(Review.journey_id.in_(ids))):
        reviews.setdefault(j, []).append(ReviewFact(kind, status, due_on, starts_at, held_at))
    objectives: dict[int, list[str]] = {}
    for j, status in session.execute(select(Objective.journey_id, Objective.status)
                                     .where(Objective.journey_id.in_(ids), Objective.active.is_(True))):
        objectives.setdefault(j, []).append(status)
    result: dict[int, dict[int, JourneyFacts]] = {}
    for j, account_id, deal_id, status, go_live_on, expected in rows_:
        result.setdefault(account_id, {})[deal_id] = JourneyFacts(
            journey_id=j, status=str(status), go_live=expected or go_live_on, tasks=tasks.get(j, ()),
            packet_state=packets.get(j), reviews=reviews.get(j, ()), objectives=objectives.get(j, ()))
    return result


def account_id_by_ref(session: Session, ref: str) -> int | None:
    """Our id, or `crm:<source>:<external id>`."""
    if ref.startswith("crm:"):
        _, source, external_id = (ref.split(":", 2) + ["", ""])[:3]
        stmt = select(Account.id).where(Account.crm_source == source, Account.crm_external_id == external_id)
    elif ref.isascii() and ref.isdigit() and len(ref) <= 10:
        stmt = select(Account.id).where(Account.id == int(ref))
    else:
        return None
    return session.scalars(stmt).first()


def count_accounts(session: Session, *, crms: Sequence[str]) -> int:
    stmt = select(func.count()).select_from(Account).where(
        or_(Account.crm_source.in_(crms), Account.id.in_(select(Deal.account_id).where(Deal.crm_source.in_(crms)))))
    return int(session.scalar(stmt) or 0)


def identity(session: Session, crm: str) -> str | None:
    """journey's own id in the CRM, as learned from it (None: not learned yet)."""
    return session.scalar(select(CrmIdentity.integration_id).where(CrmIdentity.crm == crm))


def save_identity(session: Session, crm: str, integration_id: str, now: datetime) -> None:
    row = session.get(CrmIdentity, crm)
    if row is None:
        session.add(CrmIdentity(crm=crm, integration_id=integration_id, learned_at=now))
    else:
        row.integration_id, row.learned_at = integration_id, now
