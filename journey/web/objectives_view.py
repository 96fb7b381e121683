"""Objectives as the account page shows them: baseline, target, the latest measure and the progress made."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from journey.handoff import repository as handoff_repository
from journey.models import HandoffPacket
from journey.objectives import repository as objectives_repository


@dataclass(frozen=True)
class ObjectiveView:
    title: str
    kpi: str | None
    baseline: float | None
    target: float | None
    unit: str | None
    due_on: date | None
    source: str
    status: str | None
    latest: float | None
    measured_at: datetime | None
    progress: float | None  # 0-1 of the way from baseline to target


def progress(baseline: float | None, target: float | None, latest: float | None) -> float | None:
    """How far `latest` has gone from `baseline` towards `target` (either direction), clamped to 0-1."""
    if baseline is None or target is None or latest is None or target == baseline:
        return None
    return max(0.0, min(1.0, (latest - baseline) / (target - baseline)))


def of_account(session: Session, account_id: int, packet: HandoffPacket | None) -> list[ObjectiveView]:
    """Tracked objectives with their latest measure; before tracking starts, those of the packet."""
    rows = objectives_repository.of_account(session, account_id)
    if rows:
        latest = {p.objective_id: p for p in objectives_repository.progress_of(session, [o.id for o in rows])}
        return [ObjectiveView(title=o.title, kpi=o.kpi, baseline=o.baseline, target=o.target, unit=o.unit,
                              due_on=o.due_on, source=o.source, status=o.status,
                              latest=latest[o.id].value if o.id in latest else None,
                              measured_at=latest[o.id].at if o.id in latest else None,
                              progress=progress(o.baseline, o.target, latest[o.id].value) if o.id in latest else None)
                for o in rows]
    if packet is None:
        return []
    current = handoff_repository.version(session, packet.id, packet.version)
    items = (current.content.get("objectives") or []) if current else []
    return [ObjectiveView(title=o.get("title", ""), kpi=o.get("kpi"), baseline=o.get("baseline"),
                          target=o.get("target"), unit=o.get("unit"),
                          due_on=date.fromisoformat(o["due"]) if o.get("due") else None,
                          source=o.get("source", "sales_assumed"), status=None, latest=None, measured_at=None,
                          progress=None) for o in items]

