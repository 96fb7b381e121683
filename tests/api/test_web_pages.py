"""The pages call the services: an AE edits the packet, the CSM and the AM accept it, a review's .ics."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.builders import deal_signed, drain, form_fields, member_with_password, post_event, sign_in, web_csrf

pytestmark = pytest.mark.usefixtures("db_url")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from journey.web import auth

    for limiter in (auth.FAILED_PASSWORDS, auth.ATTEMPTS_PER_IP, auth.LINK_REQUESTS):
        limiter._hits.clear()
    yield


def _account(client) -> int:  # type: ignore[no-untyped-def]
    from journey import db
    from journey.models import Account

    for email, role in (("ae@vendor.example", "ae"), ("csm@vendor.example", "csm"), ("am@vendor.example", "am")):
        member_with_password(email, role)
    post_event(client, deal_signed("D-1", "C-1"))
    assert drain() == ["processed"]
    with db.transaction(writer=False) as session:
        return session.scalars(select(Account.id)).one()


def _edit_form(client, account_id: int) -> dict:  # type: ignore[no-untyped-def]
    """The edit form as the browser would send it back (every field, current values)."""
    return form_fields(client.get(f"/accounts/{account_id}/handoff/edit").text)


def test_the_ae_edits_the_packet_and_the_pair_accepts_it(client) -> None:
    account_id = _account(client)
    sign_in(client, "ae@vendor.example")
    form = _edit_form(client, account_id)
    form["risks"] = ["IT capacity\nData migration from the legacy tool"]
    saved = client.post(f"/accounts/{account_id}/handoff/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    page = client.get(f"/accounts/{account_id}/handoff").text
    assert "version 2" in page and "Data migration from the legacy tool" in page
    assert "What changed in version 2" in page and "Risks: added &#39;Data migration from the legacy tool&#39;" in page
    assert "Accept as" not in page  # the AE does not acknowledge
    assert "<dd>€48,000</dd>" in page  # the contract's amount in its currency
    assert "<dd>€48,000</dd>" in client.get(f"/accounts/{account_id}").text  # and on the account page

    for who, role in (("csm@vendor.example", "CSM"), ("am@vendor.example", "AM")):
        client.cookies.clear()
        sign_in(client, who)
        token = web_csrf(client, f"/accounts/{account_id}/handoff",
                         action=f"/accounts/{account_id}/handoff/acknowledgements")
        accepted = client.post(f"/accounts/{account_id}/handoff/acknowledgements",
                               data={"decision": "accept", "csrf_token": token}, follow_redirects=False)
        assert accepted.status_code == 303
        after = client.get(f"/accounts/{account_id}/handoff").text
        assert "Accept as" not in after and "You accepted version 2" in after  # the button goes once answered
    assert "Accepted" in client.get(f"/accounts/{account_id}/handoff").text


def test_a_refused_packet_edit_keeps_what_was_typed_and_says_what_to_change(client) -> None:
    account_id = _account(client)
    sign_in(client, "ae@vendor.example")
    form = _edit_form(client, account_id)
    form["risks"] = ["IT capacity\nA risk typed before the mistake"]
    form["obj_target"] = ["seven", *form["obj_target"][1:]]
    refused = client.post(f"/accounts/{account_id}/handoff/edit", data=form)
    assert refused.status_code == 422
    assert "Not saved: target of" in refused.text
    assert "&#39;seven&#39; is not a number (type one such as 7" in refused.text
    assert "A risk typed before the mistake" in refused.text and 'value="seven"' in refused.text
    assert form_fields(refused.text)["obj_kpi"][0] == form["obj_kpi"][0] == "days to first ticket"  # rows as typed
    assert "version 1" in client.get(f"/accounts/{account_id}/handoff").text  # nothing saved


def test_sending_the_packet_back_needs_a_comment(client) -> None:
    account_id = _account(client)
    sign_in(client, "csm@vendor.example")
    path = f"/accounts/{account_id}/handoff"
    token = web_csrf(client, path, action=f"{path}/acknowledgements")
    refused = client.post(f"/accounts/{account_id}/handoff/acknowledgements",
                          data={"decision": "return", "csrf_token": token})
    assert refused.status_code == 422 and "comment" in refused.text


def test_a_review_downloads_as_ics(client) -> None:
    from journey import db
    from journey.models import Review

    account_id = _account(client)
    sign_in(client, "csm@vendor.example")
    with db.transaction(writer=False) as session:
        review_id = session.scalars(select(Review.id).where(Review.account_id == account_id)).first()
    response = client.get(f"/reviews/{review_id}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in response.content
    assert "Onboarding review" in client.get(f"/reviews/{review_id}").text


@pytest.mark.clock("2026-11-23T09:00:00Z")  # the booked April 2027 is in the future
def test_the_booking_form_refuses_a_night_time_unless_the_box_is_ticked(client) -> None:
    from journey import db
    from journey.models import Review

    account_id = _account(client)
    sign_in(client, "csm@vendor.example")  # the account's CSM, whose form reads times in UTC
    with db.transaction(writer=False) as session:
        review_id = session.scalars(select(Review.id).where(Review.account_id == account_id)).first()
    path = f"/reviews/{review_id}"
    assert 'name="outside_working_hours"' in client.get(path).text
    token = web_csrf(client, path, action=f"{path}/schedule")
    form = {"starts_at": "2027-04-20T05:30", "csrf_token": token}  # 07:30 in Paris
    refused = client.post(f"{path}/schedule", data=form, follow_redirects=False)
    assert refused.status_code == 422
    assert "07:30" in refused.text and "working hours" in refused.text
    booked = client.post(f"{path}/schedule", data={**form, "outside_working_hours": "true"},
                         follow_redirects=False)
    assert booked.status_code == 303
    with db.transaction(writer=False) as session:
        review = session.get_one(Review, review_id)
        assert review.status == "scheduled" and review.starts_at.hour == 5


@pytest.mark.clock("2026-11-21T10:00:00Z")
def test_the_outcome_form_refuses_a_review_not_yet_held_and_keeps_what_was_typed(client) -> None:
    from journey import db
    from journey.models import Review

    account_id = _account(client)
    sign_in(client, "csm@vendor.example")
    with db.transaction(writer=False) as session:
        review = session.scalars(select(Review).where(Review.account_id == account_id, Review.kind == "90_day")).one()
    path = f"/reviews/{review.id}"
    form = {"notes": "Chloé is happy <b>so far</b>", "next_steps": "Roll out to Lyon\nTrain the new hires",
            "expansion": "Lyon team", "objective": ["Réduire le temps d'intégration des agents"], "value": ["12"],
            "comment": ["down from 21"], "csrf_token": web_csrf(client, path, action=f"{path}/outcome")}
    refused = client.post(f"{path}/outcome", data=form, follow_redirects=False)
    assert refused.status_code == 422
    assert (f"Not recorded: this review is due on {review.due_on:%A %d %B %Y} (Europe/Paris) and was never "
            f"booked") in refused.text
    page = refused.text[refused.text.index('action="' + path + '/outcome"'):]
    assert ">Chloé is happy &lt;b&gt;so far&lt;/b&gt;</textarea>" in page  # kept, and escaped
    assert ">Roll out to Lyon\nTrain the new hires</textarea>" in page and ">Lyon team</textarea>" in page
    assert 'name="value" inputmode="decimal" value="12"' in page and 'name="comment" value="down from 21"' in page
    with db.transaction(writer=False) as session:
        assert session.get_one(Review, review.id).status == "proposed"


def test_the_ae_sees_a_review_but_may_not_book_cancel_or_close_it(client) -> None:
    """The API refuses an AE these with 403; the forms did too little (they checked only that the AE
    could see the review), so the page offered them and the posts went through."""
    from journey import db
    from journey.models import Review

    account_id = _account(client)
    sign_in(client, "ae@vendor.example")
    with db.transaction(writer=False) as session:
        review_id = session.scalars(select(Review.id).where(Review.account_id == account_id)).first()
    path = f"/reviews/{review_id}"
    shown = client.get(path)
    assert shown.status_code == 200
    for form in ("schedule", "cancel", "outcome"):
        assert f'action="{path}/{form}"' not in shown.text
    token = web_csrf(client, path)  # the sign-out form's: the session's token
    posts = {"schedule": {"starts_at": "2027-04-20T09:30"}, "cancel": {}, "outcome": {"notes": "went well"}}
    for form, data in posts.items():
        refused = client.post(f"{path}/{form}", data={**data, "csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403, (form, refused.status_code)
    with db.transaction(writer=False) as session:
        review = session.get_one(Review, review_id)
        assert review.status == "proposed" and review.sequence == 0

    client.cookies.clear()
    sign_in(client, "csm@vendor.example")
    page = client.get(path).text
    for form in ("schedule", "cancel", "outcome"):
        assert f'action="{path}/{form}"' in page


def test_the_account_page_draws_the_health_history_and_explains_it(client) -> None:
    from datetime import UTC, date, datetime, timedelta

    from journey import db
    from journey.models import HealthHistory, HealthScore

    account_id = _account(client)
    with db.transaction() as session:
        session.add(HealthScore(account_id=account_id, score=62.0, band="yellow", scorecard="default_adopted",
                                scorecard_version=3, stage="adopted", computed_at=datetime.now(UTC), missing=[],
                                contributions=[{"factor": "seat_utilisation", "value": 0.5, "weight": 40, "points": 20},
                                               {"factor": "nps", "value": None, "weight": 0, "points": 0}]))
        session.add_all(HealthHistory(account_id=account_id, day=date.today() - timedelta(days=d), score=62 + d,
                                      band="green", scorecard_version=3) for d in (0, 10, 20))
    sign_in(client, "csm@vendor.example")
    page = client.get(f"/accounts/{account_id}").text
    assert '<svg class="chart"' in page and 'class="line" d="M' in page
    assert "Seat utilisation" in page and "20.0 / 40.0 pts" in page and "20.0 of 40.0 points lost" in page
    assert "no data yet" in page  # the factor without data says so
    assert "Default adopted, version 3" in page and "default_adopted v3" not in page  # the scorecard in words
    explanation = page.split('<ul class="explanation">', 1)[1].split("</ul>", 1)[0]
    assert "/100 (" not in explanation  # the big number and the band pill say it already
    book = client.get("/").text
    assert "Yellow · 62" in book and "▼ 20" in book  # band, score and the 30-day trend (82 → 62)


def test_the_csm_moves_go_live_on_the_account_page_and_the_slip_is_listed(client) -> None:
    account_id = _account(client)
    sign_in(client, "ae@vendor.example")
    assert f'action="/accounts/{account_id}/go-live"' not in client.get(f"/accounts/{account_id}").text
    client.cookies.clear()
    sign_in(client, "csm@vendor.example")
    path = f"/accounts/{account_id}"
    token = web_csrf(client, path, action=f"/accounts/{account_id}/go-live")
    refused = client.post(f"{path}/go-live", data={"date": "2027-03-15", "reason": " ", "csrf_token": token})
    assert refused.status_code == 422 and "reason" in refused.text
    moved = client.post(f"{path}/go-live", data={"date": "2027-03-15", "reason": "IT freeze <until> March",
                                                 "csrf_token": token}, follow_redirects=False)
    assert moved.status_code == 303
    page = client.get(path).text
    assert "Go-live moved 1 time" in page and "15 Jan" in page and "→ 15 Mar" in page
    assert "IT freeze &lt;until&gt; March" in page and "csm@vendor.example" in page


@pytest.mark.clock("2026-11-23T09:00:00Z")
def test_unknown_health_is_marked_and_counted_apart_and_the_csm_sets_the_band_by_hand(client) -> None:
    from journey import db
    from journey.audit import Actor
    from journey.health import service
    from journey.kit import utcnow

    account_id = _account(client)
    with db.transaction() as session:  # nothing due yet, the packet alone: 20 % of the weight
        service.recompute(session, account_ids=[account_id], now=utcnow(), actor=Actor.flow("test"))
    sign_in(client, "am@vendor.example")
    page = client.get(f"/accounts/{account_id}").text
    assert "Unknown · 100 provisional" in page and "no plan task is due yet" in page
    assert f'action="/accounts/{account_id}/health/override"' not in page  # the AM may not set the band
    assert "Unknown · 100 provisional" in client.get("/?health=unknown").text
    assert "No account matches" in client.get("/?health=green").text
    team = client.get("/team").text
    assert "1 account unknown</a>: too little data for a band, counted apart" in team
    assert "No account has a health band yet" in team
    client.cookies.clear()

    sign_in(client, "csm@vendor.example")
    path = f"/accounts/{account_id}"
    token = web_csrf(client, path, action=f"{path}/health/override")
    refused = client.post(f"{path}/health/override", data={"band": "purple", "reason": "x", "csrf_token": token})
    assert refused.status_code == 422 and "band must be one of" in refused.text
    done = client.post(f"{path}/health/override", data={"band": "red", "reason": "Champion <left>", "days": "10",
                                                        "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(path).text
    assert "Red · 100" in page and "set by hand until" in page
    assert "Red (set by csm@vendor.example on 2026-11-23, until 2026-12-03: Champion &lt;left&gt;)" in page
    assert "Red · 100" in client.get("/?health=red").text
    token = web_csrf(client, path, action=f"{path}/health/override/clear")
    cleared = client.post(f"{path}/health/override/clear", data={"csrf_token": token}, follow_redirects=False)
    assert cleared.status_code == 303 and "Unknown · 100 provisional" in client.get(path).text


@pytest.mark.clock("2026-11-23T09:00:00Z")  # the deal is signed on Friday 20 November, its first task due Tuesday
def test_the_plan_card_counts_late_tasks_as_the_health_factor_does(client, clock) -> None:
    from datetime import UTC, datetime

    from journey.audit import Actor
    from journey.health.jobs import recompute_all_health
    from journey.job_context import JobContext

    account_id = _account(client)
    clock.move_to("2026-11-25T09:00:00Z")  # the first task is one business day late: within the grace
    recompute_all_health(JobContext(now=datetime.now(UTC), actor=Actor.flow("test")))
    sign_in(client, "csm@vendor.example")
    page = client.get(f"/accounts/{account_id}").text
    words = "1 of 1 task due is on time (grace 2 business days)"
    assert page.count(words) == 2  # the plan card and the plan_on_time factor under the health score
    assert "% on time" not in page
