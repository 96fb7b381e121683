"""A review's two agendas: the one the customer reads and the one that stays inside the team.

Pure: no database, no settings, no Jinja. `CustomerAgenda` is built from customer-facing fields only (the
review's purpose, the objectives the customer agreed with their targets, the agenda items, the next steps
agreed last time); it is what invitations and anything a customer receives carry. `InternalAgenda` holds
what the team prepares with (health, open risks, sales promises, validation flags, the SE's notes, the
AM's expansion notes, measurements and their gaps) and is shown in the app and in e-mails to staff only.
Neither is derived from the other: `customer_agenda` never sees an internal field, so no filter can
forget one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

VALIDATED = "customer_validated"  # the packet's `source` of an objective the customer agreed to


@dataclass(frozen=True)
class CustomerObjective:
    """An objective as the customer reads it: its numbers only once the customer agreed them."""

    title: str
    kpi: str | None = None
    baseline: float | None = None
    target: float | None = None
    unit: str | None = None
    due: str | None = None


@dataclass(frozen=True)
class CustomerAgenda:
    review_id: int
    title: str
    account: str
    when: str
    purpose: str
    attendees: tuple[str, ...]
    objectives: tuple[CustomerObjective, ...]
    items: tuple[str, ...]
    previous_next_steps: tuple[str, ...]


@dataclass
class InternalAgenda:
    review_id: int
    title: str
    account: str
    when: str
    attendees: list[str]
    objectives: list[dict[str, Any]]  # the packet's objectives with `latest` and `status`
    risks: list[str]
    promises: list[str]
    # {"score", "band", "explanation": [sentences]} from journey/health; None when nothing can be scored.
    health: dict[str, Any] | None = None
    previous_next_steps: list[str] = field(default_factory=list)
    previous_expansion: list[str] = field(default_factory=list)
    se_notes: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def customer_objective(objective: Mapping[str, Any]) -> CustomerObjective:
    """Title for every objective; KPI, baseline, target, unit and due date only for one the customer
    validated (a sales assumption is not theirs to read as an agreed target)."""
    title = str(objective.get("title") or "").strip()
    if objective.get("source") != VALIDATED:
        return CustomerObjective(title=title)
    due = objective.get("due")
    return CustomerObjective(title=title, kpi=objective.get("kpi"), baseline=_number(objective.get("baseline")),
                             target=_number(objective.get("target")), unit=objective.get("unit"),
                             due=str(due) if due else None)


def customer_agenda(*, review_id: int, title: str, account: str, when: str, attendees: Iterable[str],
                    objectives: Iterable[Mapping[str, Any]], previous_next_steps: Iterable[str]) -> CustomerAgenda:
    """The agenda invitations carry, from the customer-facing fields it is given and nothing else."""
    agreed = tuple(customer_objective(o) for o in objectives if str(o.get("title") or "").strip())
    follow_up = tuple(str(s) for s in previous_next_steps if str(s).strip())
    return CustomerAgenda(
        review_id=review_id, title=title, account=account, when=when,
        purpose=f"Take stock of {account}'s objectives together and agree the next steps.",
        attendees=tuple(attendees), objectives=agreed, items=agenda_items(agreed, follow_up),
        previous_next_steps=follow_up)


def agenda_items(objectives: tuple[CustomerObjective, ...], follow_up: tuple[str, ...]) -> tuple[str, ...]:
    items = ["Objectives: where we stand against the targets" if objectives
             else "Objectives: agree what success looks like"]
    if follow_up:
        items.append("Follow-up on the next steps agreed last time")
    items += ["Questions and feedback", "Next steps: who does what, by when"]
    return tuple(items)


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def latest_progress(outcomes: list[tuple[date, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per objective title (case-insensitive): the latest progress recorded at a held review.

    `outcomes` are (held on, outcome details) pairs in any order; each entry gets an `on` date.
    """
    latest: dict[str, dict[str, Any]] = {}
    for held_on, details in sorted(outcomes, key=lambda pair: pair[0]):
        for entry in (details or {}).get("progress") or []:
            title = str(entry.get("objective", "")).strip()
            if title:
                latest[title.casefold()] = {**entry, "on": held_on}
    return latest
