"""What every scenario ends with: the database read directly, nothing lost, nothing doubled."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from journey.models import (
    AuditEntry,
    Deal,
    EventStatus,
    HandoffPacket,
    InboundEvent,
    Journey,
    PlanTask,
    Review,
)


@dataclass
class Inbox:
    status_by_delivery: dict[str, str]

    @property
    def pending(self) -> int:
        return sum(1 for s in self.status_by_delivery.values() if s == EventStatus.pending)

    def not_processed(self, msg_ids: set[str]) -> dict[str, str]:
        """Deliveries among `msg_ids` that are missing ("lost") or did not end processed."""
        return {m: self.status_by_delivery.get(m, "lost") for m in msg_ids
                if self.status_by_delivery.get(m) != EventStatus.processed}


def inbox(engine) -> Inbox:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(InboundEvent.external_id, InboundEvent.status)
                            .where(InboundEvent.source == "events")).all()
    return Inbox({external_id: str(status) for external_id, status in rows})


def pending_count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(InboundEvent)
                           .where(InboundEvent.status == EventStatus.pending)) or 0


@dataclass
class Journeys:
    """Per deal (CRM id): how many journeys, how often one was opened, and what each one holds."""

    per_deal: Counter[str] = field(default_factory=Counter)
    opened: Counter[str] = field(default_factory=Counter)
    packets: Counter[str] = field(default_factory=Counter)
    review_kinds: dict[str, Counter[str]] = field(default_factory=dict)
    tasks: Counter[str] = field(default_factory=Counter)

    def problems(self, deals: set[str]) -> list[str]:
        """Every way in which `deals` do not each have exactly one complete journey (empty: all good)."""
        out = [f"{d}: {self.per_deal[d]} journeys" for d in sorted(deals) if self.per_deal[d] != 1]
        out += [f"{d}: journey without a known deal" for d in self.per_deal if d not in deals]
        out += [f"{d}: opened {n} times" for d, n in self.opened.items() if n != 1]
        out += [f"{d}: {self.packets[d]} packets" for d in deals if self.packets[d] != 1]
        out += [f"{d}: reviews {dict(k)}" for d, k in self.review_kinds.items() if any(n != 1 for n in k.values())]
        kinds = Counter(len(k) for k in self.review_kinds.values())
        if len(kinds) > 1 or len(self.review_kinds) != len(deals):
            out.append(f"review sets differ between journeys: {dict(kinds)} for {len(self.review_kinds)} journeys")
        sizes = Counter(self.tasks.values())
        if len(sizes) != 1:
            out.append(f"plans differ in size between journeys: {dict(sizes)}")
        return out


def journeys(engine) -> Journeys:  # type: ignore[no-untyped-def]
    found = Journeys()
    with engine.connect() as conn:
        deal_of = dict(conn.execute(select(Journey.id, Deal.crm_external_id)
                                    .join(Deal, Deal.id == Journey.deal_id)).tuples().all())
        found.per_deal.update(deal_of.values())
        for subject, n in conn.execute(select(AuditEntry.subject, func.count())
                                       .where(AuditEntry.action == "journey.opened").group_by(AuditEntry.subject)):
            found.opened[subject.removeprefix("deal ")] = n
        for journey_id, n in conn.execute(select(HandoffPacket.journey_id, func.count())
                                          .group_by(HandoffPacket.journey_id)):
            found.packets[deal_of[journey_id]] += n
        for journey_id, kind in conn.execute(select(Review.journey_id, Review.kind)):
            found.review_kinds.setdefault(deal_of[journey_id], Counter())[str(kind)] += 1
        for journey_id, n in conn.execute(select(PlanTask.journey_id, func.count()).group_by(PlanTask.journey_id)):
            found.tasks[deal_of[journey_id]] += n
    return found


def deals(engine) -> dict[str, Deal]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(Deal.crm_external_id, Deal.amount, Deal.seats, Deal.name,
                                   Deal.expected_go_live)).all()
    return {r.crm_external_id: r for r in rows}


def go_live_by_deal(engine) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(Deal.crm_external_id, Journey.go_live_on)
                            .join(Journey, Journey.deal_id == Deal.id)).all()
    return dict(tuple(r) for r in rows)
