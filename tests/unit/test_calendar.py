"""Business-day arithmetic: regional holidays, weekends, time zones."""

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.calendar import WorkCalendar, calendar_for, valid_timezone

D = date.fromisoformat


@pytest.mark.parametrize(
    ("region", "day", "expected"),
    [
        ("FR", "2026-07-14", False),  # Bastille Day, a Tuesday
        ("US", "2026-07-14", True),
        ("US", "2026-07-03", False),  # 4 July is a Saturday: observed on Friday 3 July
        ("FR", "2026-07-03", True),
        ("DE", "2026-06-04", True),  # Corpus Christi is not a national holiday...
        ("DE-BY", "2026-06-04", False),  # ...but it is in Bavaria
        ("GB-ENG", "2026-08-31", False),  # Summer bank holiday in England
        ("GB-SCT", "2026-08-31", True),  # ...not in Scotland
        ("us-ca", "2026-03-31", False),  # Cesar Chavez Day, lower-case region accepted
        ("US-ZZ", "2026-07-03", False),  # unknown subdivision: the country's holidays
        ("XX", "2026-12-25", True),  # unknown country: weekends only
        (None, "2026-12-25", True),
        ("", "2026-12-25", True),
        (None, "2026-07-11", False),  # Saturday
        ("FR", "2026-07-12", False),  # Sunday
        ("FR", "2031-05-08", False),  # Victory Day, years are filled on demand
    ],
)
def test_is_business_day(region, day, expected):
    assert calendar_for(region, "UTC").is_business_day(D(day)) is expected


@pytest.mark.parametrize(
    ("region", "start", "n", "expected"),
    [
        ("FR", "2026-07-10", 1, "2026-07-13"),
        ("FR", "2026-07-10", 2, "2026-07-15"),  # skips Tuesday 14 July
        ("US", "2026-07-10", 2, "2026-07-14"),
        ("FR", "2026-07-11", 0, "2026-07-13"),  # Saturday rolls forward to Monday
        ("FR", "2026-07-13", 0, "2026-07-13"),
        ("FR", "2026-07-11", 1, "2026-07-13"),  # counting starts the day after a weekend day
        ("FR", "2026-07-15", -1, "2026-07-13"),
        ("US", "2026-07-06", -1, "2026-07-02"),  # skips the observed Friday
        (None, "2026-07-13", -1, "2026-07-10"),
        (None, "2026-07-12", -1, "2026-07-10"),
        ("DE", "2026-12-23", 2, "2026-12-28"),  # 25 and 26 December
        ("FR", "2026-12-31", 1, "2027-01-04"),  # across the year end and New Year's Day
    ],
)
def test_add_business_days(region, start, n, expected):
    assert calendar_for(region, None).add_business_days(D(start), n) == D(expected)


@pytest.mark.parametrize(
    ("region", "a", "b", "expected"),
    [
        ("FR", "2026-07-10", "2026-07-10", 0),
        ("FR", "2026-07-10", "2026-07-17", 4),
        ("US", "2026-07-10", "2026-07-17", 5),
        ("FR", "2026-07-17", "2026-07-10", -4),
        (None, "2026-07-11", "2026-07-12", 0),  # a weekend
        (None, "2026-07-10", "2026-07-13", 1),
    ],
)
def test_business_days_between(region, a, b, expected):
    assert calendar_for(region, None).business_days_between(D(a), D(b)) == expected


@pytest.mark.parametrize(
    ("timezone", "at", "expected"),
    [
        ("Europe/Paris", datetime(2026, 7, 10, 21, 59, tzinfo=UTC), "2026-07-10"),
        ("Europe/Paris", datetime(2026, 7, 10, 22, 0, tzinfo=UTC), "2026-07-11"),
        ("America/Los_Angeles", datetime(2026, 7, 11, 3, 0, tzinfo=UTC), "2026-07-10"),
        ("Pacific/Auckland", datetime(2026, 7, 10, 13, 0, tzinfo=UTC), "2026-07-11"),
        ("Europe/Paris", datetime(2026, 7, 10, 23, 0), "2026-07-11"),  # naive is read as UTC
    ],
)
def test_local_date(timezone, at, expected):
    assert calendar_for(None, timezone).local_date(at) == D(expected)


@pytest.mark.parametrize(
    ("timezone", "day", "hour", "minute", "expected_utc"),
    [
        ("Europe/Paris", "2026-07-10", 9, 0, "2026-07-10T07:00"),  # CEST, UTC+2
        ("Europe/Paris", "2026-01-12", 9, 30, "2026-01-12T08:30"),  # CET, UTC+1
        ("Europe/Paris", "2026-03-29", 9, 0, "2026-03-29T07:00"),  # the spring-forward day
        ("Europe/Paris", "2026-03-28", 9, 0, "2026-03-28T08:00"),
        ("Europe/Paris", "2026-03-29", 2, 30, "2026-03-29T01:30"),  # in the gap: offset before it
        ("Europe/Paris", "2026-10-25", 2, 30, "2026-10-25T00:30"),  # ambiguous: first occurrence
        ("America/New_York", "2026-03-09", 9, 0, "2026-03-09T13:00"),  # US DST starts two weeks earlier
        ("America/New_York", "2026-11-02", 9, 0, "2026-11-02T14:00"),
        ("UTC", "2026-07-10", 9, 0, "2026-07-10T09:00"),
    ],
)
def test_at_local_time(timezone, day, hour, minute, expected_utc):
    at = calendar_for(None, timezone).at_local_time(D(day), hour, minute)
    assert at == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)
    assert at.tzinfo is UTC


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Paris", True),
        ("America/Argentina/Buenos_Aires", True),
        ("UTC", True),
        ("Europe", False),  # a directory of the tz database
        ("Mars/Olympus", False),
        ("../../etc/passwd", False),
        ("", False),
        (None, False),
    ],
)
def test_valid_timezone(name, expected):
    assert valid_timezone(name) is expected


@pytest.mark.parametrize(
    ("region", "timezone", "expected"),
    [
        ("fr", "Europe/Paris", WorkCalendar(region="FR", timezone="Europe/Paris")),
        (" us-ca ", "America/Los_Angeles", WorkCalendar(region="US-CA", timezone="America/Los_Angeles")),
        ("FR", "Paris", WorkCalendar(region="FR", timezone="UTC")),  # invalid zone falls back to UTC
        (None, None, WorkCalendar(region=None, timezone="UTC")),
        ("  ", " Europe/Berlin ", WorkCalendar(region=None, timezone="Europe/Berlin")),
    ],
)
def test_calendar_for_normalises_and_falls_back(region, timezone, expected):
    assert calendar_for(region, timezone) == expected


def test_work_calendar_refuses_an_invalid_zone():
    with pytest.raises(ValueError, match="Paris"):
        WorkCalendar(region="FR", timezone="Paris")


# ------------------------------------------------------------------------------------------- properties
REGIONS = st.sampled_from(["FR", "US", "DE"])
DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))
STEPS = st.integers(min_value=-260, max_value=260)


def _closed(region: str, d: date) -> bool:
    """Independent oracle straight from the holidays package."""
    return d.weekday() >= 5 or d in holidays.country_holidays(region, years=d.year)


@given(region=REGIONS, start=DAYS, n=STEPS)
def test_add_business_days_lands_on_a_business_day(region, start, n):
    result = calendar_for(region, None).add_business_days(start, n)
    assert not _closed(region, result)
    assert (result > start) if n > 0 else (result < start) if n < 0 else (result >= start)


@given(region=REGIONS, start=DAYS, n=STEPS.filter(bool))
def test_counting_back_gives_n(region, start, n):
    calendar = calendar_for(region, None)
    assert calendar.business_days_between(start, calendar.add_business_days(start, n)) == n


@given(region=REGIONS, start=DAYS, n=st.integers(min_value=0, max_value=60))
def test_no_business_day_is_skipped(region, start, n):
    calendar = calendar_for(region, None)
    result = calendar.add_business_days(start, n)
    open_days = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)
                 if not _closed(region, start + timedelta(days=i))]
    assert len(open_days) == max(n, 1 if _closed(region, start) else 0)


@given(region=REGIONS, day=DAYS)
def test_roll_forward_is_the_first_open_day(region, day):
    calendar = calendar_for(region, None)
    rolled = calendar.roll_forward(day)
    assert not _closed(region, rolled)
    assert all(_closed(region, day + timedelta(days=i)) for i in range((rolled - day).days))
    assert calendar.roll_forward(rolled) == rolled


@pytest.mark.parametrize(
    ("region", "zone", "start", "minutes", "reasons"),
    [
        ("FR", "Europe/Paris", "2027-04-20T06:00:00+00:00", 60, []),  # 08:00-09:00 Paris (summer time)
        ("FR", "Europe/Paris", "2027-01-19T07:00:00+00:00", 60, []),  # 08:00 Paris in winter: UTC+1
        ("FR", "Europe/Paris", "2027-01-19T06:00:00+00:00", 60, ["07:00-08:00 Europe/Paris is outside"]),
        ("FR", "Europe/Paris", "2027-04-20T15:00:00+00:00", 60, []),  # ends at 18:00 sharp
        ("FR", "Europe/Paris", "2027-04-20T15:00:00+00:00", 61, ["17:00-18:01 Europe/Paris"]),
        ("FR", "Europe/Paris", "2027-03-28T08:00:00+00:00", 60, ["Sunday 28 March 2027 is a weekend day"]),
        ("FR", "Europe/Paris", "2027-07-14T01:00:00+00:00", 60,
         ["Wednesday 14 July 2027 is a public holiday in FR", "03:00-04:00 Europe/Paris"]),
        ("US", "America/New_York", "2027-07-14T13:00:00+00:00", 60, []),  # 09:00 in New York, no holiday
        ("US", "America/New_York", "2027-07-14T22:30:00+00:00", 60, ["18:30-19:30 America/New_York"]),
        ("JP", "Asia/Tokyo", "2027-04-19T23:00:00+00:00", 60, []),  # Tuesday 08:00 in Tokyo, Monday in UTC
    ],
)
def test_outside_working_hours(region, zone, start, minutes, reasons):
    calendar = calendar_for(region, zone)
    begins = datetime.fromisoformat(start)
    found = calendar.outside_working_hours(begins, begins + timedelta(minutes=minutes))
    assert len(found) == len(reasons) and all(r in f for r, f in zip(reasons, found, strict=True))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2027-04-20T05:59:00+00:00", False),  # 07:59 Paris
        ("2027-04-20T06:00:00+00:00", True),  # 08:00
        ("2027-04-20T15:59:00+00:00", True),  # 17:59
        ("2027-04-20T16:00:00+00:00", False),  # 18:00: the day is over
        ("2027-04-18T10:00:00+00:00", False),  # a Sunday
        ("2027-05-01T10:00:00+00:00", False),  # Labour Day (a Saturday too)
        ("2027-05-08T10:00:00+00:00", False),  # 8 May, Saturday
        ("2027-05-06T10:00:00+00:00", False),  # Ascension Thursday
    ],
)
def test_in_working_hours(at, expected):
    assert calendar_for("FR", "Europe/Paris").in_working_hours(datetime.fromisoformat(at)) is expected


@settings(max_examples=300, deadline=None)
@given(region=st.sampled_from([None, "FR", "DE-BY", "US", "GB"]), a=st.dates(date(2025, 1, 1), date(2029, 12, 31)),
       days=st.integers(-800, 800))
def test_business_days_between_counts_each_day_as_is_business_day_does(region, a, days) -> None:
    calendar = calendar_for(region, None)
    b = a + timedelta(days=days)
    first, last, sign = (a + timedelta(days=1), b, 1) if a <= b else (b, a - timedelta(days=1), -1)
    one_by_one = sum(calendar.is_business_day(first + timedelta(days=i)) for i in range((last - first).days + 1))
    assert calendar.business_days_between(a, b) == sign * one_by_one
