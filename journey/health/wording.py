"""Factors and metrics in words: one label and one unit per factor, and its value formatted for that unit.
Pure: no database. A scorecard factor may carry its own `label` and `unit`; the bundled factors and metrics
have defaults here, and anything else reads as its name with spaces ('last_meeting' -> 'Last meeting').
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Unit = Literal["ratio", "percent", "days_ago", "days", "count", "flag", "scale5", "scale10", "nps", "per_seat",
               "number"]
UNITS: tuple[str, ...] = Unit.__args__  # type: ignore[attr-defined]

FACTOR_LABELS = {  # the bundled scorecards' factors whose name alone reads badly
    "plan_on_time": "Plan tasks on time", "overdue_tasks": "Overdue plan tasks",
    "packet_completeness": "Handoff packet complete", "activation": "Activation (active users per seat)",
    "csm_sentiment": "CSM sentiment", "escalation": "Open escalation", "seat_utilisation": "Seat utilisation",
    "logins_per_seat": "Logins per seat (7 days)", "open_tickets": "Open support tickets", "nps": "NPS",
    "nps_answers": "NPS answers", "csat": "CSAT", "invoices": "Oldest unpaid invoice",
    "reviews_held": "Reviews held on time", "last_meeting": "Last meeting",
}
METRIC_UNITS: dict[str, Unit] = {  # by metric, or "metric/per" for a factor dividing one metric by another
    "plan_on_time": "ratio", "tasks_overdue": "count", "packet_completeness": "percent",
    "active_users/seats": "ratio", "logins_7d/seats": "per_seat", "feature_adoption": "ratio",
    "support_tickets_open": "count", "escalation_open": "flag", "nps": "nps", "nps_response": "scale10",
    "csat": "scale5", "csm_sentiment": "scale5", "invoice_overdue_days": "days", "objective_progress": "ratio",
    "reviews_held": "ratio", "meeting": "days_ago",
}
METRIC_LABELS = {  # what a missing input is called
    "plan_on_time": "plan tasks due", "tasks_overdue": "plan tasks due", "packet_completeness": "handoff packet",
    "reviews_held": "review held or missed", "objective_progress": "objective progress", "meeting": "meeting",
    "active_users": "active users", "seats": "seat count", "logins_7d": "logins (7 days)", "nps": "NPS",
    "nps_response": "NPS answers", "csat": "CSAT", "csm_sentiment": "CSM sentiment",
    "support_tickets_open": "open support tickets", "escalation_open": "escalation status",
    "invoice_overdue_days": "invoice status", "feature_adoption": "feature adoption",
}
SENT = "send {it} with POST /api/signals or journey import signals"
WHERE_FROM = {  # the internal inputs: where they come from, hence why one can be missing
    "plan_on_time": "no plan task is due yet", "tasks_overdue": "no plan task is due yet",
    "packet_completeness": "comes from the handoff packet",
    "reviews_held": "comes from the business reviews; none was due yet",
    "objective_progress": "comes from review outcomes / objective updates",
    "meeting": "comes from held reviews or meeting signals",
}


def humanise(name: str) -> str:
    words = name.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def factor_label(name: str, label: str = "") -> str:
    """The scorecard's label, else the bundled default, else the name in words."""
    return label or FACTOR_LABELS.get(name) or humanise(name)


def factor_unit(metric: str, per: str | None = None, unit: str = "") -> str:
    return unit or METRIC_UNITS.get(f"{metric}/{per}" if per else metric, "number")


def guess_unit(factor: str, metric: str) -> str:
    """The unit of a factor stored before units were (its `per` is not kept): by metric, else by name."""
    by_name = {"activation": "ratio", "seat_utilisation": "ratio", "logins_per_seat": "per_seat"}
    return METRIC_UNITS.get(metric) or by_name.get(factor, "number")


def value_words(unit: str, value: float | None) -> str:
    """A factor's value as a person reads it: '53 %', '78 days ago', '2 open', 'yes'."""
    if value is None:
        return "no data"
    if unit == "ratio":
        return f"{value * 100:.0f} %"
    if unit == "percent":
        return f"{value:.0f} %"
    if unit == "days_ago":
        days = round(value)
        return "today" if days == 0 else f"{_n(days, 'day')} ago"
    if unit == "days":
        return _n(round(value), "day")
    if unit == "count":
        return f"{round(value)}"
    if unit == "flag":
        return "yes" if value >= 0.5 else "no"
    if unit == "scale5":
        return f"{num(value)} of 5"
    if unit == "scale10":
        return f"{num(value)} of 10"
    if unit == "nps":
        return f"{value:+.0f}"
    if unit == "per_seat":
        return f"{num(value)} per seat"
    return num(value)


def num(value: float) -> str:
    """At most one decimal, none when it is whole: 3.5, 10, 7.1."""
    return f"{value:.1f}".removesuffix(".0")


def missing_words(metrics: Sequence[str]) -> list[str]:
    """One sentence per source: 'No objective progress recorded yet (comes from review outcomes / objective
    updates)', 'No active users or seat count recorded yet (send it with POST /api/signals ...)'."""
    by_reason: dict[str, list[str]] = {}
    for metric in metrics:
        name = METRIC_LABELS.get(metric) or humanise(metric).lower()
        names = by_reason.setdefault(WHERE_FROM.get(metric, SENT), [])
        if name not in names:
            names.append(name)
    return [f"No {_or(names)} recorded yet ({reason.format(it='it' if len(names) == 1 else 'them')})"
            for reason, names in by_reason.items()]


def _or(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _n(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
