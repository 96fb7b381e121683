"""Review rules: when each review falls due, its proposed slot, its reminders, and go-live moves.

Pure: no database, no settings, no clock. Dates are calendar dates of the account's calendar;
every `datetime` returned is timezone-aware UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from journey.calendar import WORKDAY_END, WORKDAY_START

if TYPE_CHECKING:
    from journey.calendar import WorkCalendar

KIND_PATTERN = r"^[a-z0-9_]+$"
DEFAULT_LOCAL_TIME = time(10, 0)
REMINDER_LOCAL_TIME = time(9, 0)
_MAX_ROLL_BACK_DAYS = 366


class ReviewAnchor(StrEnum):
    """The date a review's offset counts from."""

    SIGNATURE = "signature"
    CONTRACT_START = "contract_start"
    GO_LIVE = "go_live"


class ReviewStatus(StrEnum):
    PROPOSED = "proposed"
    SCHEDULED = "scheduled"
    HELD = "held"
    MISSED = "missed"
    CANCELLED = "cancelled"


ALLOWED_TRANSITIONS: dict[ReviewStatus, frozenset[ReviewStatus]] = {
    ReviewStatus.PROPOSED: frozenset({ReviewStatus.SCHEDULED, ReviewStatus.HELD, ReviewStatus.MISSED,
                                      ReviewStatus.CANCELLED}),
    # back to proposed: the date moved (a go-live slip) and a new invitation is needed
    ReviewStatus.SCHEDULED: frozenset({ReviewStatus.PROPOSED, ReviewStatus.HELD, ReviewStatus.MISSED,
                                       ReviewStatus.CANCELLED}),
    # a missed review can still be rebooked, held late, or given up
    ReviewStatus.MISSED: frozenset({ReviewStatus.SCHEDULED, ReviewStatus.HELD, ReviewStatus.CANCELLED}),
    ReviewStatus.HELD: frozenset(),
    ReviewStatus.CANCELLED: frozenset(),
}
FROZEN_STATUSES = frozenset({ReviewStatus.HELD, ReviewStatus.CANCELLED})


def check_transition(old: str, new: str) -> ReviewStatus:
    """Return `new` as a status if `old -> new` is allowed; staying put is allowed (idempotent)."""
    old_status, new_status = ReviewStatus(old), ReviewStatus(new)
    if old_status != new_status and new_status not in ALLOWED_TRANSITIONS[old_status]:
        raise ValueError(f"a review cannot go from {old_status} to {new_status}")
    return new_status


class ReviewOffset(BaseModel):
    """How far after the anchor a review falls: exactly one of `days` or `months`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int | None = None
    months: int | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReviewOffset:
        if (self.days is None) == (self.months is None):
            raise ValueError("give exactly one of days or months")
        return self

    def delta(self) -> relativedelta:
        """Calendar arithmetic: 31 August + 6 months is the last day of February."""
        if self.months is not None:
            return relativedelta(months=self.months)
        return relativedelta(days=self.days or 0)


class ReviewSpec(BaseModel):
    """One entry of a playbook's `reviews:` list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(pattern=KIND_PATTERN, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    anchor: ReviewAnchor
    offset: ReviewOffset
    attendees: tuple[str, ...] = ()
    duration_minutes: int = Field(default=60, gt=0, le=480)
    remind_days_before: tuple[int, ...] = ()
    local_time: time = DEFAULT_LOCAL_TIME

    @field_validator("anchor", mode="before")
    @classmethod
    def _known_anchor(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in {a.value for a in ReviewAnchor}:
            known = ", ".join(a.value for a in ReviewAnchor)
            raise ValueError(f"unknown anchor {value!r}; use one of {known}")
        return value

    @field_validator("remind_days_before")
    @classmethod
    def _reminders(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        negative = [lead for lead in value if lead < 0]
        if negative:
            raise ValueError(f"reminder lead times must be 0 or more days, got {negative}")
        return tuple(sorted(set(value), reverse=True))

    @field_validator("local_time", mode="before")
    @classmethod
    def _parse_local_time(cls, value: Any) -> time:
        if isinstance(value, time):
            return value.replace(second=0, microsecond=0, tzinfo=None)
        # unquoted 10:00 in YAML 1.1 arrives as the integer 600
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value) if isinstance(value, str) else None
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f'local_time must be a quoted "HH:MM" such as "10:00", got {value!r}')
        return time(int(match[1]), int(match[2]))

    @model_validator(mode="after")
    def _within_working_hours(self) -> ReviewSpec:
        start = datetime.combine(date.min, self.local_time)
        end = start + timedelta(minutes=self.duration_minutes)
        if self.local_time < WORKDAY_START or end > datetime.combine(date.min, WORKDAY_END):
            raise ValueError(
                f"a {self.duration_minutes}-minute review at {self.local_time:%H:%M} does not fit "
                f"working hours {WORKDAY_START:%H:%M}-{WORKDAY_END:%H:%M}"
            )
        return self


def parse_review_specs(raw: list[dict[str, Any]]) -> list[ReviewSpec]:
    """Validate a playbook's `reviews:` list; raise ValueError naming the entry and the field."""
    if not isinstance(raw, list):
        raise ValueError("reviews: expected a list of review entries")
    specs: list[ReviewSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        where = f"reviews[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping, got {type(entry).__name__}")
        try:
            spec = ReviewSpec.model_validate(entry)
        except ValidationError as exc:
            raise ValueError(f"{where}: {_describe(exc)}") from None
        if spec.kind in seen:
            raise ValueError(f"{where}: duplicate kind {spec.kind!r} (already in reviews[{seen[spec.kind]}])")
        seen[spec.kind] = index
        specs.append(spec)
    return specs


def _describe(exc: ValidationError) -> str:
    """One line per problem: `offset: give exactly one of days or months`."""
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "entry"
        msg = error["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Anchors:
    """The dates reviews count from; a missing contract start or go-live falls back to the signature."""

    signed_on: date
    contract_start: date | None = None
    go_live: date | None = None

    def date_for(self, anchor: ReviewAnchor) -> date:
        if anchor is ReviewAnchor.CONTRACT_START:
            return self.contract_start or self.signed_on
        if anchor is ReviewAnchor.GO_LIVE:
            return self.go_live or self.signed_on
        return self.signed_on


@dataclass(frozen=True)
class ReviewDraft:
    kind: str
    title: str
    anchor: ReviewAnchor
    due_on: date
    starts_at: datetime
    ends_at: datetime
    attendees: tuple[str, ...]
    remind_days_before: tuple[int, ...]


@dataclass(frozen=True)
class ExistingReview:
    kind: str
    anchor: ReviewAnchor
    due_on: date
    status: ReviewStatus
    fixed_by_hand: bool = False


@dataclass(frozen=True)
class ReviewMove:
    kind: str
    old_due_on: date
    new_due_on: date


def _due_from(spec: ReviewSpec, base: date, calendar: WorkCalendar) -> date:
    return calendar.roll_forward(base + spec.offset.delta())


def review_due_on(spec: ReviewSpec, *, anchors: Anchors, calendar: WorkCalendar) -> date:
    """Anchor date + offset, rolled forward to a business day of the account's calendar."""
    return _due_from(spec, anchors.date_for(spec.anchor), calendar)


def proposed_slot(spec: ReviewSpec, due_on: date, calendar: WorkCalendar) -> tuple[datetime, datetime]:
    """Start and end (aware UTC) at the spec's local time on `due_on`, in the account's zone."""
    starts_at = calendar.at_local_time(due_on, spec.local_time.hour, spec.local_time.minute)
    return starts_at, starts_at + timedelta(minutes=spec.duration_minutes)


def plan_reviews(specs: list[ReviewSpec], *, anchors: Anchors, calendar: WorkCalendar) -> list[ReviewDraft]:
    """One draft per spec, in due order (then kind)."""
    drafts = []
    for spec in specs:
        due_on = review_due_on(spec, anchors=anchors, calendar=calendar)
        starts_at, ends_at = proposed_slot(spec, due_on, calendar)
        drafts.append(ReviewDraft(
            kind=spec.kind, title=spec.title, anchor=spec.anchor, due_on=due_on,
            starts_at=starts_at, ends_at=ends_at, attendees=spec.attendees,
            remind_days_before=spec.remind_days_before,
        ))
    return sorted(drafts, key=lambda d: (d.due_on, d.kind))


def _roll_back(d: date, calendar: WorkCalendar) -> date:
    """`d` if it is a business day, else the business day before it."""
    for _ in range(_MAX_ROLL_BACK_DAYS):
        if calendar.is_business_day(d):
            return d
        d -= timedelta(days=1)
    raise ValueError(f"no business day in the year before {d}")


def reminder_times(
    due_on: date, remind_days_before: tuple[int, ...] | list[int], calendar: WorkCalendar
) -> list[tuple[int, datetime]]:
    """(lead days, moment) per lead time: 09:00 local on the business day on or before due - lead.

    Earliest reminder first; duplicate lead times count once; negative ones are refused.
    """
    if any(lead < 0 for lead in remind_days_before):
        raise ValueError("reminder lead times must be 0 or more days")
    moments = []
    for lead in sorted(set(remind_days_before), reverse=True):
        day = _roll_back(due_on - timedelta(days=lead), calendar)
        at = calendar.at_local_time(day, REMINDER_LOCAL_TIME.hour, REMINDER_LOCAL_TIME.minute)
        moments.append((lead, at))
    return moments


def move_for_go_live(
    reviews: list[ExistingReview], *, new_go_live: date, calendar: WorkCalendar, specs: list[ReviewSpec]
) -> list[ReviewMove]:
    """Reviews anchored at go-live follow a new go-live date.

    Left alone: held or cancelled reviews, reviews whose date was fixed by hand, reviews whose kind
    is no longer in the playbook, and reviews whose date does not change.
    """
    by_kind = {spec.kind: spec for spec in specs}
    moves = []
    for review in reviews:
        spec = by_kind.get(review.kind)
        if (
            spec is None
            or review.anchor != ReviewAnchor.GO_LIVE
            or review.status in FROZEN_STATUSES
            or review.fixed_by_hand
        ):
            continue
        new_due_on = _due_from(spec, new_go_live, calendar)
        if new_due_on != review.due_on:
            moves.append(ReviewMove(kind=review.kind, old_due_on=review.due_on, new_due_on=new_due_on))
    return moves


# --- the scheduler's rules: which due reminder is sent, which review is missed, where a resumed one lands ---

ACTIVE_STATUSES = frozenset({ReviewStatus.PROPOSED, ReviewStatus.SCHEDULED})
MISSED_AFTER = timedelta(days=2)  # time to record the outcome before a past review counts as missed
ESCALATE_WITHIN = timedelta(days=30)  # older misses (a back-filled deal) are marked, not escalated
RESUME_NOTICE_BUSINESS_DAYS = 5


class ReminderVerdict(StrEnum):
    SEND = "sent"
    SKIP = "skipped"  # the review is no longer active, moved (other sequence) or has started
    SUPERSEDE = "superseded"  # a nearer reminder of the same review is due as well: send that one only


class ReviewClock(NamedTuple):
    """What the reminder rules need to know of a review (a named tuple: a sweep makes one per claimed row)."""

    status: ReviewStatus
    sequence: int
    starts_at: datetime | None


def reminder_verdict(*, lead_days: int, sequence: int, review: ReviewClock | None, nearest_due_lead: int | None,
                     now: datetime) -> ReminderVerdict:
    """Send a due reminder only for an active review that has not started, at its current sequence,
    and only the nearest of its due lead times (a scheduler that was down sends one, not a burst)."""
    if review is None or review.status not in ACTIVE_STATUSES or review.sequence != sequence:
        return ReminderVerdict.SKIP
    if review.starts_at is not None and review.starts_at <= now:
        return ReminderVerdict.SKIP
    if nearest_due_lead is not None and nearest_due_lead < lead_days:
        return ReminderVerdict.SUPERSEDE
    return ReminderVerdict.SEND


def outcome_opens_at(*, starts_at: datetime | None, booked: bool, due_on: date, calendar: WorkCalendar) -> datetime:
    """The earliest instant a review can be recorded as held: its start once booked; a review never
    booked, from its due date (the start of its due day in the account's zone)."""
    if booked and starts_at is not None:
        return starts_at
    return calendar.at_local_time(due_on, 0)


def outcome_too_early(*, starts_at: datetime | None, booked: bool, due_on: date, calendar: WorkCalendar,
                      now: datetime) -> str | None:
    """Why an outcome recorded at `now` would be a record of a meeting that has not happened; None if it can be."""
    opens = outcome_opens_at(starts_at=starts_at, booked=booked, due_on=due_on, calendar=calendar)
    if now >= opens:
        return None
    if booked:
        local = opens.astimezone(calendar.zone)
        return (f"this review starts on {local:%A %d %B %Y at %H:%M} ({calendar.timezone}): record its outcome "
                f"once it has taken place")
    return (f"this review is due on {due_on:%A %d %B %Y} ({calendar.timezone}) and was never booked: record its "
            f"outcome from that day, or book it at the time it is held first")


def missed_before(now: datetime) -> datetime:
    """Active reviews that ended before this instant are missed."""
    return now - MISSED_AFTER


def should_escalate(ends_at: datetime, now: datetime) -> bool:
    return now - ends_at <= MISSED_AFTER + ESCALATE_WITHIN


def restored_due_on(due_on: date, *, today: date, calendar: WorkCalendar) -> date:
    """A review restored after a pause keeps its date if it is still ahead with notice to spare;
    otherwise it lands a week of business days after `today`."""
    earliest = calendar.add_business_days(today, RESUME_NOTICE_BUSINESS_DAYS)
    return due_on if due_on >= earliest else earliest


def days_until(starts_at: datetime, now: datetime, calendar: WorkCalendar) -> int:
    """Calendar days from today to the review's day, both in the account's zone."""
    return (calendar.local_date(starts_at) - calendar.local_date(now)).days


def reminder_when(*, starts_at: datetime, now: datetime, calendar: WorkCalendar) -> str:
    """`in 14 days: Tue 2 Mar 2027 10:00 Europe/Paris`: the part of a reminder's sentence its time decides."""
    days = days_until(starts_at, now, calendar)
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    local = starts_at.astimezone(calendar.zone)
    return f"{when}: {local:%a %d %b %Y %H:%M} {calendar.timezone}"


def reminder_sentence(*, title: str, account: str, when: str, objectives: int | None = None) -> str:
    """The reminder's sentence around its `reminder_when` phrase."""
    text = f"{title} with {account} is {when}."
    if objectives:
        text += f" {objectives} objective{'s' if objectives != 1 else ''} to review."
    return text


def reminder_reason(*, title: str, account: str, starts_at: datetime, now: datetime, calendar: WorkCalendar,
                    objectives: int | None = None) -> str:
    """`Strategic review (3 months) with Acme is in 14 days: Tue 2 Mar 2027 10:00 Europe/Paris.`"""
    return reminder_sentence(title=title, account=account, objectives=objectives,
                             when=reminder_when(starts_at=starts_at, now=now, calendar=calendar))
