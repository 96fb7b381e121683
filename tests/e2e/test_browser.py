"""The web UI in a real browser, on the demo workspace: what a CSM, an AM, an AE and an admin do."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE, shot

pytestmark = pytest.mark.browser
ACCOUNT = "Rekall Media"  # signed nine days ago: its packet awaits the CSM


def test_a_csm_checks_off_a_task_and_acknowledges_the_packet(open_as) -> None:
    page = open_as("csm@demo.example")
    assert page.locator("h1").inner_text() == "My book"
    assert page.get_by_role("link", name=ACCOUNT).is_visible()
    assert page.get_by_role("link", name="Globex Corporation").count() == 0  # another CSM's account
    shot(page, "book-csm")

    page.get_by_role("link", name=ACCOUNT).click()
    page.wait_for_url(re.compile(r"/accounts/\d+$"))
    assert page.locator("h1").inner_text() == ACCOUNT
    shot(page, "account")
    task = page.locator("li.task:not(.closed)").filter(has=page.locator("button.check-button:not([disabled])")).first
    title = task.locator(".task-title").inner_text()
    task.locator("button.check-button").click()
    page.wait_for_url(re.compile(r"notice=task_done"))
    assert page.get_by_role("status").inner_text() == "Task checked off."
    done = page.locator("li.task.closed", has_text=title)
    assert done.locator("button.check-button.checked").count() == 1

    page.get_by_role("link", name=re.compile("Handoff packet")).first.click()
    page.wait_for_url(re.compile(r"/handoff"))
    shot(page, "packet")
    page.get_by_role("button", name="Accept as CSM").click()
    page.wait_for_url(re.compile(r"notice=packet_accepted"))
    assert page.get_by_role("status").inner_text() == "Packet accepted."
    assert "Camille Durand (CSM) accepted" in page.locator(".ack-form, .list.compact").first.inner_text()


def _took_place_this_morning(server, account: str) -> None:  # type: ignore[no-untyped-def]
    """The account's first review was booked for an hour ago. The server runs on the real clock and the
    demo's reviews all lie ahead; an outcome is only recorded once the review has started."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from journey.db import engine_for
    from journey.models import Account, Review

    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with Session(engine_for(server.database_url)) as session, session.begin():
        review = session.scalars(select(Review).join(Account, Account.id == Review.account_id)
                                 .where(Account.name == account).order_by(Review.due_on).limit(1)).one()
        review.starts_at = review.scheduled_at = started
        review.ends_at, review.due_on = started + timedelta(minutes=30), started.date()
        review.status, review.fixed_by_hand = "scheduled", True


def test_an_am_sees_the_reminder_a_review_raised(open_as, server) -> None:
    _took_place_this_morning(server, "Initech Ltd")
    csm = open_as("csm@demo.example")
    csm.goto("/reviews")
    shot(csm, "reviews")
    csm.get_by_role("row", name=re.compile("Initech")).first.get_by_role("link").first.click()
    csm.fill("textarea[name=notes]", "Adoption is ahead of plan; the team wants the analytics add-on.")
    csm.fill("textarea[name=expansion]", "Analytics add-on for the support leads (15 seats)")
    csm.get_by_role("button", name="Mark as held").click()
    csm.wait_for_url(re.compile(r"notice=review_saved"))
    shot(csm, "review-held")

    am = open_as("am@demo.example")
    assert am.locator(".stat", has_text="My reminders").locator("strong").inner_text() != "0"
    am.get_by_role("link", name=re.compile("^Reminders")).click()
    reminder = am.locator("li.reminder", has_text="Analytics add-on for the support leads")
    assert reminder.is_visible()
    assert "Initech Ltd" in reminder.inner_text()
    shot(am, "reminders-am")
    phone = open_as("am@demo.example", viewport=PHONE)
    phone.goto("/reminders")
    shot(phone, "reminders-am-phone")


def test_an_ae_cannot_open_the_admin_inbox(open_as) -> None:
    ae = open_as("ae@demo.example")
    assert ae.get_by_role("link", name="Inbox").count() == 0
    response = ae.goto("/admin/inbox")
    assert response is not None and response.status == 403
    assert ae.locator("h1").inner_text() == "Not allowed"
    shot(ae, "inbox-refused-ae")

    admin = open_as("admin@demo.example")
    admin.get_by_role("link", name="Inbox").click()
    assert admin.locator("h1").inner_text() == "Inbox"
    assert admin.locator("table.inbox tbody tr").count() >= 3  # the demo's deliveries
    shot(admin, "inbox-admin")


def test_the_main_pages_render_for_a_manager_on_a_laptop_and_a_phone(open_as) -> None:
    manager = open_as("manager@demo.example")
    assert manager.locator("h1").inner_text() == "All accounts"
    assert manager.locator("table.book tbody tr").count() == 30
    shot(manager, "book-manager")
    manager.get_by_role("link", name="Team").click()
    assert manager.locator(".kpi").count() == 5
    shot(manager, "team")
    phone = open_as("csm@demo.example", viewport=PHONE)
    shot(phone, "book-phone")
    phone.get_by_role("link", name=ACCOUNT).click()
    shot(phone, "account-phone")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "sideways scroll"


def test_a_manager_reads_the_weekly_review_with_its_week_over_week_changes(open_as) -> None:
    manager = open_as("manager@demo.example")
    manager.goto("/team#weekly")
    weekly = manager.locator("section.weekly")
    assert re.match(r"Weekly review · week \d{4}-W\d{2}", weekly.locator("h2").inner_text())
    kpis = {row.locator("td").first.inner_text(): [c.inner_text() for c in row.locator("td").all()[1:]]
            for row in weekly.locator("table.kpi-table").nth(0).locator("tbody tr").all()}
    assert len(kpis) == 5 and all(this != "—" and last != "—" and change != "—"
                                  for this, last, change in kpis.values())  # twelve weeks of snapshots behind
    money = {row.locator("td").first.inner_text(): [c.inner_text() for c in row.locator("td").all()[1:]]
             for row in weekly.locator("table.kpi-table").nth(1).locator("tbody tr").all()}
    this_week, last_week, change = money["ARR at risk"]
    assert this_week != "—" and last_week != "—" and change not in ("—", "")
    pipeline = money["Expansion pipeline"][0]  # one figure everywhere: the card, the list's title, the table
    assert manager.locator(".kpi", has_text="Expansion pipeline").locator("strong").inner_text() == pipeline
    assert manager.locator("#pipeline h2").inner_text().startswith(f"Expansion pipeline: {pipeline} in ")
    assert weekly.locator("svg.chart").count() >= 4  # 12-week lines
    assert weekly.get_by_role("link", name="CSV").count() == 5
    manager.select_option("select[name=segment]", "enterprise")
    manager.get_by_role("button", name="Show").click()
    manager.wait_for_url(re.compile(r"segment=enterprise"))
    assert "ENTERPRISE SEGMENT · 7 ACCOUNTS" in manager.locator(".eyebrow").first.inner_text()  # shown in capitals
    assert "Initech Ltd" not in manager.locator("section.weekly").inner_text()  # an SMB account
    manager.goto("/team#weekly")
    shot(manager, "team-weekly")
    manager.goto("/")
    manager.get_by_role("link", name="Globex Corporation").first.click()
    assert manager.locator("#opportunities").get_by_text("Second support team (120 seats)").count() == 1
    shot(manager, "account-laptop")
