"""Every query of the CRM connectors: the per-deal stage watermark."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.db import insert_ignoring_duplicates
from journey.models.crm import CrmDealStage


def lock_stage(session: Session, *, source: str, external_id: str) -> CrmDealStage | None:
    """The deal's watermark row, locked for this transaction on PostgreSQL (SQLite: BEGIN IMMEDIATE)."""
    stmt = select(CrmDealStage).where(CrmDealStage.source == source, CrmDealStage.external_id == external_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def read_stage(session: Session, *, source: str, external_id: str) -> CrmDealStage | None:
    stmt = select(CrmDealStage).where(CrmDealStage.source == source, CrmDealStage.external_id == external_id)
    return session.scalars(stmt).one_or_none()


def save_stage(session: Session, *, source: str, external_id: str, pipeline: str | None, stage: str | None,
               won: bool, occurred_at: datetime, event_id: int) -> None:
    values = {"pipeline": (pipeline or None) and pipeline[:200], "stage": (stage or None) and stage[:200],
              "won": won, "occurred_at": occurred_at, "event_id": event_id}
    if insert_ignoring_duplicates(session, CrmDealStage, source=source, external_id=external_id, **values):
        return
    row = lock_stage(session, source=source, external_id=external_id)
    assert row is not None
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
