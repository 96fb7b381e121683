"""Review dates, slots, reminders and go-live moves; expectations computed by hand from a wall calendar."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.calendar import calendar_for
from journey.reviews.domain import (
    ALLOWED_TRANSITIONS,
    RESUME_NOTICE_BUSINESS_DAYS,
    Anchors,
    ExistingReview,
    ReviewAnchor,
    ReviewSpec,
    ReviewStatus,
    check_transition,
    move_for_go_live,
    outcome_too_early,
    parse_review_specs,
    plan_reviews,
    proposed_slot,
    reminder_times,
    restored_due_on,
    review_due_on,
)

PARIS = calendar_for("FR", "Europe/Paris")
NEW_YORK = calendar_for("US", "America/New_York")
NO_HOLIDAYS = calendar_for(None, "UTC")


def spec(kind: str = "r", anchor: str = "signature", local_time: str = "10:00", **offset: int) -> ReviewSpec:
    return ReviewSpec.model_validate({
        "kind": kind, "title": kind, "anchor": anchor, "offset": offset or {"days": 90},
        "local_time": local_time,
    })


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("signed_on", "offset", "calendar", "expected"),
    [
        # 31 Aug 2027 + 6 months: 29 Feb 2028 (leap year), a Tuesday
        (date(2027, 8, 31), {"months": 6}, PARIS, date(2028, 2, 29)),
        # 31 Aug 2026 + 6 months: Sunday 28 Feb 2027, rolled to Monday 1 March
        (date(2026, 8, 31), {"months": 6}, PARIS, date(2027, 3, 1)),
        # 29 Feb 2028 + 3 months: Monday 29 May 2028
        (date(2028, 2, 29), {"months": 3}, PARIS, date(2028, 5, 29)),
        # 30 Nov 2027 + 3 months: 29 Feb 2028, already a business day
        (date(2027, 11, 30), {"months": 3}, PARIS, date(2028, 2, 29)),
        # 31 Jan 2026 + 90 days: Friday 1 May 2026, Fête du Travail in FR -> Monday 4 May
        (date(2026, 1, 31), {"days": 90}, PARIS, date(2026, 5, 4)),
        # the same day is a plain Friday in the US and with no region
        (date(2026, 1, 31), {"days": 90}, NEW_YORK, date(2026, 5, 1)),
        (date(2026, 1, 31), {"days": 90}, NO_HOLIDAYS, date(2026, 5, 1)),
        # 4 Apr 2026 + 90 days: Friday 3 July 2026, Independence Day observed -> Monday 6 July
        (date(2026, 4, 4), {"days": 90}, NEW_YORK, date(2026, 7, 6)),
        # 25 Dec 2026 is a Friday holiday in FR -> Monday 28 Dec
        (date(2026, 9, 26), {"days": 90}, PARIS, date(2026, 12, 28)),
    ],
)
def test_due_on(signed_on: date, offset: dict, calendar, expected: date) -> None:
    assert review_due_on(spec(**offset), anchors=Anchors(signed_on), calendar=calendar) == expected


@pytest.mark.parametrize(
    ("anchor", "anchors", "expected"),
    [
        ("signature", Anchors(date(2026, 3, 2), date(2026, 4, 1), date(2026, 6, 1)), date(2026, 3, 12)),
        ("contract_start", Anchors(date(2026, 3, 2), date(2026, 4, 1), date(2026, 6, 1)), date(2026, 4, 13)),
        # 11 Jun 2026 is a Thursday
        ("go_live", Anchors(date(2026, 3, 2), date(2026, 4, 1), date(2026, 6, 1)), date(2026, 6, 11)),
        # a missing contract start or go-live falls back to the signature
        ("contract_start", Anchors(date(2026, 3, 2)), date(2026, 3, 12)),
        ("go_live", Anchors(date(2026, 3, 2), date(2026, 4, 1), None), date(2026, 3, 12)),
    ],
)
def test_anchor_choice_and_fallback(anchor: str, anchors: Anchors, expected: date) -> None:
    # 1 Apr + 10 days is Saturday 11 April 2026 -> Monday 13 April (Easter Monday is 6 April)
    assert review_due_on(spec(anchor=anchor, days=10), anchors=anchors, calendar=PARIS) == expected


@pytest.mark.parametrize(
    ("calendar", "day", "local_time", "start"),
    [
        (PARIS, date(2027, 1, 15), "10:00", utc(2027, 1, 15, 9)),     # CET, UTC+1
        (PARIS, date(2027, 7, 15), "10:00", utc(2027, 7, 15, 8)),     # CEST, UTC+2
        (NEW_YORK, date(2027, 1, 15), "10:00", utc(2027, 1, 15, 15)),  # EST, UTC-5
        (NEW_YORK, date(2027, 7, 15), "10:00", utc(2027, 7, 15, 14)),  # EDT, UTC-4
        (PARIS, date(2027, 1, 15), "14:30", utc(2027, 1, 15, 13, 30)),
        # the EU changes clocks on Sunday 28 March 2027
        (PARIS, date(2027, 3, 26), "10:00", utc(2027, 3, 26, 9)),
        (PARIS, date(2027, 3, 29), "10:00", utc(2027, 3, 29, 8)),
        # the US changes on Sunday 14 March 2027: that week New York is 5 hours behind Paris, not 6
        (NEW_YORK, date(2027, 3, 12), "10:00", utc(2027, 3, 12, 15)),
        (NEW_YORK, date(2027, 3, 16), "10:00", utc(2027, 3, 16, 14)),
        (PARIS, date(2027, 3, 16), "10:00", utc(2027, 3, 16, 9)),
        # autumn: the US goes back on Sunday 1 November 2026
        (NEW_YORK, date(2026, 10, 30), "10:00", utc(2026, 10, 30, 14)),
        (NEW_YORK, date(2026, 11, 2), "10:00", utc(2026, 11, 2, 15)),
    ],
)
def test_proposed_slot_in_local_time(calendar, day: date, local_time: str, start: datetime) -> None:
    starts_at, ends_at = proposed_slot(spec(local_time=local_time), day, calendar)
    assert (starts_at, ends_at) == (start, start + timedelta(minutes=60))
    assert starts_at.utcoffset() == timedelta(0)


def test_reminders_fall_on_the_business_day_before() -> None:
    # due Monday 4 May 2026 in Paris (CEST): 30 days before is Saturday 4 April -> Friday 3 April;
    # 14 days before is Monday 20 April; 2 days before is Saturday 2 May -> not Friday 1 May (holiday)
    # -> Thursday 30 April. 09:00 local is 07:00 UTC.
    assert reminder_times(date(2026, 5, 4), [2, 30, 14, 14], PARIS) == [
        (30, utc(2026, 4, 3, 7)),
        (14, utc(2026, 4, 20, 7)),
        (2, utc(2026, 4, 30, 7)),
    ]


def test_reminder_on_the_day_and_in_winter() -> None:
    # Monday 11 Jan 2027, 09:00 CET = 08:00 UTC
    assert reminder_times(date(2027, 1, 11), [0], PARIS) == [(0, utc(2027, 1, 11, 8))]
    with pytest.raises(ValueError, match="0 or more"):
        reminder_times(date(2027, 1, 11), [-1], PARIS)


def test_plan_reviews_orders_by_due_date() -> None:
    specs = parse_review_specs([
        {"kind": "6_month", "title": "Six months", "anchor": "go_live", "offset": {"months": 6},
         "attendees": ["csm", "executive_sponsor"], "remind_days_before": [14, 30]},
        {"kind": "90_day", "title": "Onboarding review (90 days)", "anchor": "signature",
         "offset": {"days": 90}, "duration_minutes": 45},
    ])
    drafts = plan_reviews(specs, anchors=Anchors(date(2026, 1, 31), None, date(2026, 3, 2)), calendar=PARIS)
    assert [(d.kind, d.due_on) for d in drafts] == [
        ("90_day", date(2026, 5, 4)), ("6_month", date(2026, 9, 2))]
    first, second = drafts
    assert (first.starts_at, first.ends_at) == (utc(2026, 5, 4, 8), utc(2026, 5, 4, 8, 45))
    assert second.attendees == ("csm", "executive_sponsor")
    assert second.remind_days_before == (30, 14)
    assert second.anchor is ReviewAnchor.GO_LIVE


ENTRY = {"kind": "a", "title": "A", "anchor": "signature", "offset": {"days": 1}}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([ENTRY, ENTRY | {"title": "B"}], r"reviews\[1\]: duplicate kind 'a'"),
        ([ENTRY | {"offset": {"days": 1, "months": 1}}], "exactly one of days or months"),
        ([ENTRY | {"offset": {}}], "exactly one of days or months"),
        ([ENTRY | {"anchor": "kickoff"}], "unknown anchor 'kickoff'"),
        ([ENTRY | {"remind_days_before": [7, -2]}], "0 or more days"),
        ([ENTRY | {"kind": "90 Day"}], r"reviews\[0\]: kind"),
        ([ENTRY | {"local_time": 600}], "quoted"),  # unquoted 10:00 in YAML 1.1
        ([ENTRY | {"local_time": "7:00"}], "working hours"),
        ([ENTRY | {"local_time": "17:30"}], "working hours"),  # ends at 18:30
        ([ENTRY | {"offset": {"dayz": 1}}], "dayz"),
        (["90_day"], "expected a mapping"),
    ],
)
def test_parse_errors_name_the_entry(entries: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_review_specs(entries)


def test_parse_defaults() -> None:
    [parsed] = parse_review_specs([{"kind": "3_month", "title": "T", "anchor": "contract_start",
                                    "offset": {"months": 3}, "local_time": "9:30"}])
    assert (parsed.local_time.hour, parsed.local_time.minute) == (9, 30)
    assert parsed.duration_minutes == 60 and parsed.remind_days_before == ()


def existing(kind: str, status: str, *, fixed: bool = False, anchor: str = "go_live",
             due: date = date(2026, 9, 2)) -> ExistingReview:
    return ExistingReview(kind=kind, anchor=ReviewAnchor(anchor), due_on=due, status=ReviewStatus(status),
                          fixed_by_hand=fixed)


GO_LIVE_SPECS = [spec("a", "go_live", months=6), spec("b", "signature", days=90)]


@pytest.mark.parametrize(
    ("review", "moved"),
    [
        (existing("a", "proposed"), True),
        (existing("a", "scheduled"), True),
        (existing("a", "missed"), True),
        (existing("a", "held"), False),
        (existing("a", "cancelled"), False),
        (existing("a", "scheduled", fixed=True), False),
        (existing("b", "proposed", anchor="signature"), False),
        (existing("gone", "proposed"), False),  # no longer in the playbook
        (existing("a", "proposed", due=date(2026, 11, 2)), False),  # already on the new date
    ],
)
def test_go_live_moves(review: ExistingReview, moved: bool) -> None:
    # go-live slips from 2 March to 1 May 2026: + 6 months is Sunday 1 Nov 2026 (All Saints) -> Monday 2 Nov
    moves = move_for_go_live([review], new_go_live=date(2026, 5, 1), calendar=PARIS, specs=GO_LIVE_SPECS)
    if moved:
        assert [(m.kind, m.old_due_on, m.new_due_on) for m in moves] == [
            ("a", date(2026, 9, 2), date(2026, 11, 2))]
    else:
        assert moves == []


@pytest.mark.parametrize(
    ("old", "new", "ok"),
    [
        ("proposed", "scheduled", True),
        ("scheduled", "held", True),
        ("scheduled", "proposed", True),
        ("missed", "scheduled", True),
        ("held", "held", True),
        ("held", "scheduled", False),
        ("cancelled", "proposed", False),
        ("missed", "proposed", False),
    ],
)
def test_transitions(old: str, new: str, ok: bool) -> None:
    if ok:
        assert check_transition(old, new) == ReviewStatus(new)
    else:
        with pytest.raises(ValueError, match=f"from {old} to {new}"):
            check_transition(old, new)
    assert set(ALLOWED_TRANSITIONS) == set(ReviewStatus)


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError):
        check_transition("proposed", "done")


# --- properties ---------------------------------------------------------------------------------

CALENDARS = st.sampled_from([
    PARIS, NEW_YORK, NO_HOLIDAYS, calendar_for("DE-BY", "Europe/Berlin"), calendar_for("GB", "Europe/London"),
])
DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
OFFSETS = st.one_of(
    st.builds(dict, days=st.integers(0, 400)), st.builds(dict, months=st.integers(0, 24)),
)


@settings(max_examples=200, deadline=None)
@given(calendar=CALENDARS, signed_on=DATES, contract_start=st.none() | DATES, go_live=st.none() | DATES,
       anchor=st.sampled_from(list(ReviewAnchor)), offset=OFFSETS)
def test_due_dates_are_business_days(calendar, signed_on, contract_start, go_live, anchor, offset) -> None:
    anchors = Anchors(signed_on, contract_start, go_live)
    due = review_due_on(spec(anchor=anchor.value, **offset), anchors=anchors, calendar=calendar)
    assert calendar.is_business_day(due)
    assert due >= anchors.date_for(anchor)


@settings(max_examples=200, deadline=None)
@given(calendar=CALENDARS, due_on=DATES, leads=st.lists(st.integers(0, 60), max_size=5))
def test_reminders_are_business_days_before_the_review(calendar, due_on, leads) -> None:
    for lead, at in reminder_times(due_on, leads, calendar):
        day = calendar.local_date(at)
        assert calendar.is_business_day(day)
        assert day <= due_on - timedelta(days=lead)


PROPERTY_SPECS = [spec("a", "go_live", months=6), spec("b", "go_live", days=45), spec("d", "signature", days=90)]
REVIEWS = st.lists(st.builds(
    ExistingReview,
    kind=st.sampled_from(["a", "b", "c", "d"]),  # "c" is no longer in the playbook
    anchor=st.sampled_from(list(ReviewAnchor)),
    due_on=DATES,
    status=st.sampled_from(list(ReviewStatus)),
    fixed_by_hand=st.booleans(),
), max_size=4, unique_by=lambda r: r.kind)  # one review per kind and journey, as the table's unique key


@settings(max_examples=300, deadline=None)
@given(reviews=REVIEWS, new_go_live=DATES, calendar=CALENDARS, data=st.data())
def test_go_live_moves_exactly_the_movable_reviews_onto_the_new_go_live(reviews, new_go_live, calendar,
                                                                       data) -> None:
    specs = {s.kind: s for s in PROPERTY_SPECS}
    target = {kind: new_go_live + s.offset.delta() for kind, s in specs.items()}  # before rolling forward
    # some reviews already sit where the new go-live puts them: nothing to move
    reviews = [replace(r, due_on=calendar.roll_forward(target[r.kind]))
               if r.kind in target and data.draw(st.booleans(), label=f"{r.kind} on target") else r
               for r in reviews]
    listed = move_for_go_live(reviews, new_go_live=new_go_live, calendar=calendar, specs=PROPERTY_SPECS)
    moves = {m.kind: m for m in listed}
    assert len(moves) == len(listed)  # one move per review at most
    for review in reviews:
        movable = (review.kind in specs and review.anchor is ReviewAnchor.GO_LIVE and not review.fixed_by_hand
                   and review.status not in {ReviewStatus.HELD, ReviewStatus.CANCELLED})
        move = moves.get(review.kind)
        if not movable:
            assert move is None, review
            continue
        landed = move.new_due_on if move else review.due_on
        # the first business day on or after the new go-live + the review's offset
        assert landed >= target[review.kind] >= new_go_live and calendar.is_business_day(landed)
        assert all(not calendar.is_business_day(target[review.kind] + timedelta(days=i))
                   for i in range((landed - target[review.kind]).days))
        if move is not None:
            assert move.old_due_on == review.due_on != move.new_due_on


# --- reminders across month ends, leap days and clock changes; resumed reviews -------------------

@pytest.mark.parametrize(
    ("calendar", "due_on", "leads", "expected"),
    [
        # EU clocks go forward Sunday 28 March 2027 (Easter; Monday 29 is a holiday in FR): Friday 26 March
        # 09:00 is CET (08:00 UTC), Tuesday 30 March 09:00 is CEST (07:00 UTC)
        (PARIS, date(2027, 3, 30), [4, 0], [(4, utc(2027, 3, 26, 8)), (0, utc(2027, 3, 30, 7))]),
        # on Easter Monday itself: rolled back to Friday, before the change
        (PARIS, date(2027, 3, 29), [0], [(0, utc(2027, 3, 26, 8))]),
        # US clocks go back Sunday 1 November 2026: 09:00 EDT = 13:00 UTC, 09:00 EST = 14:00 UTC
        (NEW_YORK, date(2026, 11, 2), [3, 0], [(3, utc(2026, 10, 30, 13)), (0, utc(2026, 11, 2, 14))]),
        # leap day: 1 day before Wednesday 1 March 2028 is Tuesday 29 February
        (PARIS, date(2028, 3, 1), [1], [(1, utc(2028, 2, 29, 8))]),
        # not a leap year: 1 day before Monday 1 March 2027 is Sunday 28 Feb -> Friday 26 Feb
        (PARIS, date(2027, 3, 1), [1], [(1, utc(2027, 2, 26, 8))]),
        # month end + holiday: 30 days before Monday 1 June 2026 is Saturday 2 May -> Thursday 30 April
        # (Friday 1 May is Fête du Travail)
        (PARIS, date(2026, 6, 1), [30], [(30, utc(2026, 4, 30, 7))]),
        # New Year: 2 days before Monday 3 Jan 2028 is Saturday 1 Jan; Friday 31 Dec is the observed
        # holiday in the US -> Thursday 30 Dec 2027
        (NEW_YORK, date(2028, 1, 3), [2], [(2, utc(2027, 12, 30, 14))]),
    ],
)
def test_reminder_times_table(calendar, due_on: date, leads: list, expected: list) -> None:
    assert reminder_times(due_on, leads, calendar) == expected


@pytest.mark.parametrize(
    ("due_on", "today", "expected"),
    [
        (date(2027, 6, 1), date(2027, 3, 1), date(2027, 6, 1)),  # still far ahead: kept
        # in the past: 5 business days after Thursday 25 March 2027, skipping Easter Monday (29 March),
        # is Friday 2 April
        (date(2027, 3, 2), date(2027, 3, 25), date(2027, 4, 2)),
        # too close: Friday 26 March + 5 business days (30, 31, 1, 2, 5 April) -> Monday 5 April
        (date(2027, 3, 30), date(2027, 3, 26), date(2027, 4, 5)),
    ],
)
def test_restored_due_on(due_on: date, today: date, expected: date) -> None:
    assert restored_due_on(due_on, today=today, calendar=PARIS) == expected


@settings(max_examples=200, deadline=None)
@given(calendar=CALENDARS, due_on=DATES, today=DATES)
def test_restored_reviews_keep_their_date_or_land_five_business_days_ahead(calendar, due_on, today) -> None:
    restored = restored_due_on(due_on, today=today, calendar=calendar)
    assert restored > today and restored >= due_on  # never earlier than it was, never today or before
    notice = calendar.business_days_between(today, restored)
    if restored == due_on:  # kept: it was far enough ahead
        assert notice >= RESUME_NOTICE_BUSINESS_DAYS
    else:  # moved: to the first business day with five business days of notice, no later
        assert calendar.is_business_day(restored) and notice == RESUME_NOTICE_BUSINESS_DAYS
        assert calendar.business_days_between(today, restored - timedelta(days=1)) < RESUME_NOTICE_BUSINESS_DAYS
        assert calendar.business_days_between(today, due_on) < RESUME_NOTICE_BUSINESS_DAYS


@settings(max_examples=200, deadline=None)
@given(calendar=CALENDARS, due_on=DATES, leads=st.lists(st.integers(0, 60), min_size=1, max_size=5))
def test_reminders_are_at_nine_local_in_time_order(calendar, due_on, leads) -> None:
    moments = reminder_times(due_on, leads, calendar)
    assert [lead for lead, _ in moments] == sorted(set(leads), reverse=True)
    assert all(a <= b for (_, a), (_, b) in zip(moments, moments[1:], strict=False))
    for _, at in moments:
        local = at.astimezone(calendar.zone)
        assert (local.hour, local.minute) == (9, 0) and at.utcoffset() == timedelta(0)


BOOKED_AT = datetime(2027, 4, 20, 12, 30, tzinfo=UTC)  # 14:30 in Paris


@pytest.mark.parametrize(("booked", "now", "refused"), [
    # booked: from its start, not a minute before
    (True, datetime(2027, 4, 20, 12, 29, tzinfo=UTC), True),
    (True, BOOKED_AT, False),
    (True, datetime(2026, 12, 1, 9, tzinfo=UTC), True),  # months ahead
    # never booked: from the start of its due day in the account's zone (midnight Paris is 22:00 UTC in summer)
    (False, datetime(2027, 4, 19, 21, 59, tzinfo=UTC), True),
    (False, datetime(2027, 4, 19, 22, 0, tzinfo=UTC), False),
    (False, datetime(2027, 4, 20, 8, tzinfo=UTC), False),  # before its proposed 14:30 slot, on its day
])
def test_an_outcome_is_refused_before_the_review_starts(booked: bool, now: datetime, refused: bool) -> None:
    reason = outcome_too_early(starts_at=BOOKED_AT, booked=booked, due_on=date(2027, 4, 20), calendar=PARIS, now=now)
    assert (reason is not None) == refused
    if reason and booked:
        assert reason.startswith("this review starts on Tuesday 20 April 2027 at 14:30 (Europe/Paris)")
    elif reason:
        assert "due on Tuesday 20 April 2027 (Europe/Paris) and was never booked" in reason


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
       offset=st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
def test_a_booked_review_can_be_held_exactly_from_its_start(start: datetime, offset: timedelta) -> None:
    reason = outcome_too_early(starts_at=start, booked=True, due_on=PARIS.local_date(start), calendar=PARIS,
                               now=start + offset)
    assert (reason is None) == (offset >= timedelta(0))
