"""What a batch's flow run shows in Prefect's UI: tags for its sources and event types, and one log line per
event naming its outcome, its deal and a link to its account page (JOURNEY_PUBLIC_BASE_URL)."""
from __future__ import annotations

from journey import db
from journey.deals import repository as deals_repository
from journey.inbox import repository as inbox_repository

FAILED = frozenset({"retry", "dead"})  # outcomes that mean the event's flow raised


def batch_tags(events: list[tuple[int, str]]) -> list[str]:
    """`journey`, `source:<source>` and `type:<event type>` for each source and type in the batch."""
    with db.transaction(writer=False) as session:
        sources = {e.source for i, _ in events if (e := inbox_repository.get(session, i)) is not None}
    return ["journey", *sorted(f"source:{s}" for s in sources), *sorted({f"type:{t}" for _, t in events})]


def outcome_line(event_id: int, outcome: str, *, base_url: str | None) -> str:
    """`event 12 deal.signed D-1001: processed; account https://journey.example/accounts/7` (and the error)."""
    with db.transaction(writer=False) as session:
        event = inbox_repository.get(session, event_id)
        if event is None:
            return f"event {event_id}: {outcome} (no longer in the inbox)"
        deal = (deals_repository.deal_by_crm(session, source=event.source, external_id=event.subject)
                if event.subject else None)
        line = f"event {event_id} {event.type} {event.subject or ''}".rstrip() + f": {outcome}"
        if deal is not None:
            line += f"; account {(base_url or '').rstrip('/')}/accounts/{deal.account_id}"
        if outcome in FAILED and event.error:
            line += f"; error: {event.error[:300]}"
        return line


def failure_message(outcomes: dict[int, str]) -> str | None:
    """None when no event failed; else which did (`2 of 50 events failed: 12 (retry), 15 (dead)`)."""
    failed = [f"{i} ({o})" for i, o in outcomes.items() if o in FAILED]
    if not failed:
        return None
    shown = ", ".join(failed[:20]) + (f", +{len(failed) - 20} more" if len(failed) > 20 else "")
    return f"{len(failed)} of {len(outcomes)} events failed: {shown}"
