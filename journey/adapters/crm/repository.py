"""Every query of the CRM connectors: the per-deal stage watermark."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from journey.db import insert_ignoring_duplicates
from journey.models.crm import CrmDealStage

NOTHING_APPLIED = datetime(1970, 1, 1, tzinfo=UTC)  # the placeholder row's time: no change applied yet


def lock_stage(session: Session, *, source: str, external_id: str) -> CrmDealStage:
    """The deal's watermark row, created if missing, then locked for this transaction.

    Insert-then-lock: a deal's first two changes, processed at once, both reach the same row, and the
    second waits for the first to commit (PostgreSQL: `FOR UPDATE`, which re-reads the committed row;
    SQLite: the writer's `BEGIN IMMEDIATE` already serialises them). A row whose `event_id` is None
    is a placeholder: no change has been applied to that deal yet.
    """
    insert_ignoring_duplicates(session, CrmDealStage, source=source, external_id=external_id,
                               occurred_at=NOTHING_APPLIED, won=False, event_id=None)
    stmt = select(CrmDealStage).where(CrmDealStage.source == source, CrmDealStage.external_id == external_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


def read_stage(session: Session, *, source: str, external_id: str) -> CrmDealStage | None:
    """The deal's watermark, or None when no change has been applied to it yet."""
    stmt = select(CrmDealStage).where(CrmDealStage.source == source, CrmDealStage.external_id == external_id,
                                      CrmDealStage.event_id.is_not(None))
    return session.scalars(stmt).one_or_none()


def save_stage(session: Session, *, source: str, external_id: str, pipeline: str | None, stage: str | None,
               won: bool, occurred_at: datetime, event_id: int) -> bool:
    """Move the (locked) watermark to this change, only if it is newer than the one there (or the same
    event again, a retry); False when the row already holds a newer change."""
    newer = or_(CrmDealStage.event_id.is_(None), CrmDealStage.event_id == event_id,
                CrmDealStage.occurred_at < occurred_at)
    result = session.execute(
        update(CrmDealStage)
        .where(CrmDealStage.source == source, CrmDealStage.external_id == external_id, newer)
        .values(pipeline=(pipeline or None) and pipeline[:200], stage=(stage or None) and stage[:200], won=won,
                occurred_at=occurred_at, event_id=event_id)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
