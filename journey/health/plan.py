"""Plan punctuality as the health factors and the plan card read it: the tasks due so far, how many
business days late each is, the penalty a late task costs, and the words both say (`on_time_words`).
Pure: no database, settings or I/O."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from journey.calendar import WorkCalendar
from journey.health.scorecards import Factor, Lateness, Scorecard, ScorecardError, scorecard_for

LATENESS_HORIZON = timedelta(days=180)  # lateness is counted up to here: beyond every card's full penalty


@dataclass(frozen=True)
class DueTask:  # a plan task due so far: done (late or not) or still open past its due date
    days_late: int  # calendar days after its due date it was done, or has been open; 0 when on time
    business_days_late: int
    open: bool


def due_tasks(tasks: Iterable[tuple[date, date | None]], *, today: date,
              calendar: WorkCalendar) -> tuple[DueTask, ...]:
    """The tasks due by `today`, from (due_on, done_on or None) of the tasks not skipped: one done by today
    counts if it was due by today, an open one if it was due before today (due today is not late yet).
    A task done after `today` was open on `today` (the back-test scores past days)."""
    out = []
    for due_on, done_on in tasks:
        done = done_on is not None and done_on <= today
        if due_on > today or (due_on == today and not done):
            continue
        end = done_on if done and done_on is not None else today
        late = max(0, (end - due_on).days)
        business = calendar.business_days_between(due_on, min(end, due_on + LATENESS_HORIZON)) if late else 0
        out.append(DueTask(late, max(0, business), not done))
    return tuple(out)


def task_penalty(business_days_late: int, lateness: Lateness) -> float:
    """0 within the grace period, then growing by 1 / full_penalty_business_days a business day, up to 1."""
    beyond = max(0, business_days_late - lateness.grace_business_days)
    return min(1.0, beyond / lateness.full_penalty_business_days)


def plan_value(factor: Factor, tasks: Sequence[DueTask]) -> float | None:
    """`plan_on_time`: 1 - the mean penalty of the tasks due so far (without `lateness`: the share done by
    their due date). `tasks_overdue`: open tasks late beyond the grace (without: past their due date).
    None before any task is due."""
    if not tasks:
        return None
    lateness = factor.lateness
    if factor.metric == "tasks_overdue":  # every open task due so far is past due: without lateness, all count
        grace = lateness.grace_business_days if lateness else -1
        return float(sum(1 for t in tasks if t.open and t.business_days_late > grace))
    if lateness is None:
        return sum(1 for t in tasks if t.days_late == 0) / len(tasks)
    return 1 - sum(task_penalty(t.business_days_late, lateness) for t in tasks) / len(tasks)


def plan_detail(factor: Factor, tasks: Sequence[DueTask]) -> str:
    """The plan factor's value in words: `on_time_words` for `plan_on_time`, the open tasks late beyond
    the grace period for `tasks_overdue`."""
    if factor.metric == "tasks_overdue" and factor.lateness is None:
        late = sum(1 for t in tasks if t.open and t.days_late > 0)
        return f"{late} open task{_s(late)} past due"
    if factor.metric == "tasks_overdue":
        grace = factor.lateness.grace_business_days
        late = sum(1 for t in tasks if t.open and t.business_days_late > grace)
        return f"{late} open task{_s(late)} more than {grace} business days late"
    return on_time_words(tasks, factor.lateness)


def on_time_words(tasks: Sequence[DueTask], lateness: Lateness | None) -> str:
    """How many of the tasks due so far are on time, in the words the plan card and the health factor
    both show: "7 of 9 tasks due are on time (grace 2 business days); 2 late by 3+ business days (up to
    5)". Without `lateness` a task is on time only if done (or still open) by its due date."""
    due = len(tasks)
    if lateness is None:
        late = [t.days_late for t in tasks if t.days_late > 0]
        grace, beyond = "", "late"
    else:
        g = lateness.grace_business_days
        late = [t.business_days_late for t in tasks if t.business_days_late > g]
        grace = f" (grace {g} business day{_s(g)})"
        beyond = f"late by {g + 1}+ business days"
    on_time = due - len(late)
    words = f"{on_time} of {due} task{_s(due)} due {'is' if on_time == 1 else 'are'} on time{grace}"
    if not late:
        return words
    worst = f"up to {max(late)} {'business ' if lateness else ''}day{_s(max(late))}"
    return f"{words}; {len(late)} {beyond} ({worst})"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def plan_lateness(cards: Sequence[Scorecard], *, segment: str | None) -> Lateness | None:
    """The grace and full penalty of `plan_on_time` in the segment's onboarding card (the card that weighs
    the plan): the plan card counts late tasks as that factor does. None when no card weighs the plan."""
    try:
        card = scorecard_for(cards, segment=segment, stage="onboarding")
    except ScorecardError:
        return None
    return next((f.lateness for f in card.factors if f.metric == "plan_on_time"), None)
