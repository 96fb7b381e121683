"""AE reminders while the packet is incomplete: business days only, one per cadence; Markdown escaping."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.calendar import calendar_for
from journey.handoff.domain import ae_reminder_due
from journey.rendering import md_escape

D = date.fromisoformat
FR = calendar_for("FR", "Europe/Paris")


def _due(today, last, every=2, calendar=FR):  # type: ignore[no-untyped-def]
    return ae_reminder_due(today=D(today), last_reminded_on=D(last) if last else None, every_business_days=every,
                           is_business_day=calendar.is_business_day,
                           business_days_between=calendar.business_days_between)


@pytest.mark.parametrize(
    ("today", "last", "every", "due"),
    [
        ("2026-07-10", None, 2, True),  # Friday, never reminded
        ("2026-07-11", None, 2, False),  # Saturday
        ("2026-07-14", None, 2, False),  # Bastille Day
        ("2026-07-10", "2026-07-10", 2, False),  # already today
        ("2026-07-13", "2026-07-10", 2, False),  # Monday: one business day later
        ("2026-07-15", "2026-07-10", 2, True),  # Wednesday: two business days (14 July skipped)
        ("2026-07-13", "2026-07-10", 1, True),
        ("2026-07-13", "2026-07-10", 0, True),  # a cadence below one counts as daily
    ],
)
def test_ae_reminder_due(today, last, every, due) -> None:  # type: ignore[no-untyped-def]
    assert _due(today, last, every) is due


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared 2-core machine
@given(st.dates(D("2026-01-01"), D("2027-12-31")), st.integers(1, 5), st.sampled_from(["FR", "US", "DE"]))
def test_a_daily_sweep_never_storms(start, every, region) -> None:  # type: ignore[no-untyped-def]
    calendar = calendar_for(region, None)
    sent: list[date] = []
    for day in (start + timedelta(days=n) for n in range(40)):
        for _ in range(3):  # the sweep runs several times a day
            if ae_reminder_due(today=day, last_reminded_on=sent[-1] if sent else None, every_business_days=every,
                               is_business_day=calendar.is_business_day,
                               business_days_between=calendar.business_days_between):
                sent.append(day)
    assert all(calendar.is_business_day(d) for d in sent)
    assert all(calendar.business_days_between(a, b) >= every for a, b in zip(sent, sent[1:], strict=False))
    assert sent  # 40 days always hold a business day


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared 2-core machine
@given(st.text())
def test_markdown_escaping_leaves_no_markup(text) -> None:  # type: ignore[no-untyped-def]
    out = md_escape(text)
    assert "<" not in out and ">" not in out
    for line in out.split("\n"):
        stripped = line.lstrip()
        assert not stripped.startswith(("#", "- ", "* ", "+ ", "[", "`"))
