"""Queries of the health overrides (the band a CSM set by hand): read, save, remove."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from journey.db import among
from journey.health.repository import _insert
from journey.models import HealthOverride


def overrides_of(session: Session, account_ids: Sequence[int]) -> dict[int, HealthOverride]:
    """The overrides of the accounts (a recompute's batch: the ids bound as one parameter, `among`)."""
    stmt = select(HealthOverride).where(among(session, HealthOverride.account_id, account_ids))
    return {o.account_id: o for o in session.scalars(stmt)}


def save_override(session: Session, row: dict[str, Any]) -> None:
    stmt = _insert(session, HealthOverride.__table__)
    session.execute(stmt.on_conflict_do_update(index_elements=["account_id"], set_={
        k: stmt.excluded[k] for k in row if k != "account_id"}), [row])


def delete_overrides(session: Session, account_ids: Sequence[int]) -> None:
    session.execute(delete(HealthOverride).where(HealthOverride.account_id.in_(account_ids)))
