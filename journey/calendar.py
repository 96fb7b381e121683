"""Business-day arithmetic per account: weekends, regional public holidays and the local time zone.

Pure: no settings, no database. Dates and times are always passed in.

Regions are ISO 3166 codes understood by the ``holidays`` package, optionally with a subdivision:
``"FR"``, ``"US"``, ``"US-CA"``, ``"DE-BY"``, ``"GB-ENG"``. An unknown subdivision falls back to the
country's national holidays; an unknown country (or ``None``) means weekends only. Nothing here raises
for an unknown region.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import holidays

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
WORKDAY_START = time(8, 0)  # working hours, local time of the account
WORKDAY_END = time(18, 0)
_populate_lock = threading.Lock()


def valid_timezone(name: str | None) -> bool:
    """True if ``name`` is an IANA time zone known to this machine's tz database."""
    if not name or not isinstance(name, str):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" (a directory) raises OSError
        return False
    return True


def _split_region(region: str | None) -> tuple[str, str | None] | None:
    """``"us-ca"`` -> ``("US", "CA")``; ``None`` or blank -> ``None``."""
    if not region or not region.strip():
        return None
    country, _, subdiv = region.strip().upper().partition("-")
    return country, (subdiv or None)


@lru_cache(maxsize=256)
def _holiday_source(country: str, subdiv: str | None) -> holidays.HolidayBase | None:
    """The (slow to build) holiday object for a country/subdivision, built once; ``None`` if unknown."""
    import holidays  # lazy: ~60 ms of imports, paid by the first account with a region, not by every start

    try:
        return holidays.country_holidays(country, subdiv=subdiv, years=())
    except NotImplementedError:
        if subdiv is not None:
            return _holiday_source(country, None)
        return None


@lru_cache(maxsize=4096)
def _holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """Public holidays (observed days included) of one year, populated on demand and cached."""
    source = _holiday_source(country, subdiv)
    if source is None:
        return frozenset()
    # Slicing an expanding HolidayBase populates the year, which mutates it: serialise that.
    with _populate_lock:
        return frozenset(source[date(year, 1, 1) : date(year + 1, 1, 1)])  # type: ignore[index]


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and local time of one account.

    ``timezone`` must be a valid IANA name (``ValueError`` otherwise); use :func:`calendar_for` to get a
    calendar from untrusted input, which falls back to UTC instead.
    """

    region: str | None
    timezone: str = "UTC"
    _parts: tuple[str, str | None] | None = field(init=False, repr=False, compare=False)  # the region, split once

    def __post_init__(self) -> None:
        if not valid_timezone(self.timezone):
            raise ValueError(f"unknown time zone {self.timezone!r}")
        object.__setattr__(self, "_parts", _split_region(self.region))  # asked once per day counted, not per call

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, d: date) -> bool:
        parts = self._parts
        return parts is not None and d in _holiday_dates(parts[0], parts[1], d.year)

    def is_business_day(self, d: date) -> bool:
        """Not a Saturday or Sunday and not a public holiday of the region."""
        return d.weekday() < _SATURDAY and not self.is_holiday(d)

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a business day, else the next business day."""
        while not self.is_business_day(d):
            d += _ONE_DAY
        return d

    def roll_backward(self, d: date) -> date:
        """``d`` if it is a business day, else the previous business day."""
        while not self.is_business_day(d):
            d -= _ONE_DAY
        return d

    def add_business_days(self, d: date, n: int) -> date:
        """Step ``n`` business days from ``d`` (backwards when ``n < 0``); ``d`` itself is not counted.

        ``n == 0`` rolls ``d`` forward. The result is always a business day, and for ``n != 0``
        ``business_days_between(d, add_business_days(d, n)) == n``.
        """
        if n == 0:
            return self.roll_forward(d)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_business_day(d):
                remaining -= 1
        return d

    def business_days_between(self, a: date, b: date) -> int:
        """Signed number of business-day steps from ``a`` to ``b``.

        For ``a <= b``: business days in ``(a, b]``. For ``b < a``: minus the business days in
        ``[b, a)``. It is the inverse of :meth:`add_business_days`.
        """
        if a == b:
            return 0
        if a < b:
            return self._business_days_in(a + _ONE_DAY, b)
        return -self._business_days_in(b, a - _ONE_DAY)

    def _business_days_in(self, first: date, last: date) -> int:
        """Business days in [first, last] (first <= last): weekdays counted by whole weeks, minus the
        region's holidays falling on a weekday in the range (a plan read 2,000 times a recompute)."""
        span = (last - first).days + 1
        weeks, rest = divmod(span, 7)
        start = first.weekday()
        count = weeks * 5 + sum(1 for i in range(rest) if (start + i) % 7 < _SATURDAY)
        parts = _split_region(self.region)
        if parts is not None:
            for year in range(first.year, last.year + 1):
                count -= sum(1 for h in _holiday_dates(parts[0], parts[1], year)
                             if first <= h <= last and h.weekday() < _SATURDAY)
        return count

    def local_date(self, at: datetime) -> date:
        """The calendar date in this zone at instant ``at`` (a naive ``at`` is taken as UTC)."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at.astimezone(self.zone).date()

    def at_local_time(self, d: date, hour: int, minute: int = 0) -> datetime:
        """The aware UTC instant when local wall clocks show ``d`` ``hour:minute``.

        DST-correct through zoneinfo. A wall time skipped by a spring-forward gap resolves with the
        offset in force before the gap (02:30 in Paris on the last Sunday of March is 01:30 UTC); an
        ambiguous autumn time takes its first occurrence.
        """
        local = datetime.combine(d, time(hour, minute), tzinfo=self.zone)
        return local.astimezone(UTC)


    def in_working_hours(self, at: datetime) -> bool:
        """``at`` falls on a business day between ``WORKDAY_START`` (included) and ``WORKDAY_END`` locally."""
        local = at.astimezone(self.zone)
        return self.is_business_day(local.date()) and WORKDAY_START <= local.time() < WORKDAY_END

    def outside_working_hours(self, start: datetime, end: datetime) -> list[str]:
        """Why a meeting from ``start`` to ``end`` (aware) is not within one business day's working hours,
        in words naming the local time; empty when it is."""
        first, last = start.astimezone(self.zone), end.astimezone(self.zone)
        day, reasons = first.date(), []
        if day.weekday() >= _SATURDAY:
            reasons.append(f"{day:%A %d %B %Y} is a weekend day")
        elif self.is_holiday(day):
            reasons.append(f"{day:%A %d %B %Y} is a public holiday in {self.region}")
        if first.time() < WORKDAY_START or last.date() != day or last.time() > WORKDAY_END:
            reasons.append(f"{first:%H:%M}-{last:%H:%M} {self.timezone} is outside working hours "
                           f"{WORKDAY_START:%H:%M}-{WORKDAY_END:%H:%M}")
        return reasons


@lru_cache(maxsize=1024)
def calendar_for(region: str | None, timezone: str | None) -> WorkCalendar:
    """A calendar for an account's region and time zone (one per pair, shared: it is immutable).

    The region is normalised (``" fr "`` -> ``"FR"``). An invalid or missing time zone falls back to
    ``"UTC"`` rather than raising, since both values come from CRM data. Holiday tables are cached per
    (country, subdivision) and filled year by year, so building calendars is cheap.
    """
    parts = _split_region(region)
    normalised = None if parts is None else (parts[0] if parts[1] is None else f"{parts[0]}-{parts[1]}")
    zone = timezone.strip() if isinstance(timezone, str) else ""
    return WorkCalendar(region=normalised, timezone=zone if valid_timezone(zone) else "UTC")
