"""`journey demo` tells a team's story, and the weekly review's numbers are right for it: each figure of
`GET /api/kpis/weekly` and `/team` is recomputed here from the raw rows (deals, health scores, tasks,
milestones, packets, opportunities) with plain SQL and arithmetic, not through `journey.kpis`."""
from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.builders import member_with_token, sign_in

RISK = ("watch", "at_risk", "critical", "yellow", "red")


@pytest.fixture
def demo(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    from flows.runner import drain_inline
    from journey import demo as demo_module
    from journey.app import create_app
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_ENVIRONMENT", "development")
    get_settings.cache_clear()
    demo_module.load_demo_inline(create_app=create_app, drain=drain_inline)
    return demo_module


def _independent(session, now: datetime) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from journey.models import (
        Deal,
        DealStatus,
        HandoffPacket,
        HealthScore,
        Journey,
        Milestone,
        Opportunity,
        PlanTask,
        TaskStatus,
    )

    today = now.date()
    live = {a: Decimal(v) for a, v in session.execute(
        select(Deal.account_id, func.sum(Deal.amount)).where(Deal.status == DealStatus.won).group_by(Deal.account_id))}
    bands = dict(session.execute(select(HealthScore.account_id, HealthScore.band)).tuples().all())
    done = on_time = late_open = 0
    for status, due_on, done_at in session.execute(select(PlanTask.status, PlanTask.due_on, PlanTask.done_at)):
        if status == TaskStatus.done:
            done += 1
            on_time += done_at.date() <= due_on
        elif status != TaskStatus.skipped and due_on < today:
            late_open += 1
    ttv = [(reached.date() - signed).days for signed, reached in session.execute(
        select(Journey.signed_on, func.min(Milestone.completed_at)).join(Milestone, Milestone.journey_id == Journey.id)
        .where(Milestone.value_milestone.is_(True), Milestone.completed_at.is_not(None)).group_by(Journey.id))]
    packets = list(session.scalars(select(HandoffPacket.completeness)))
    pipeline = list(session.execute(select(Opportunity.amount).where(Opportunity.stage.in_(("open", "proposed")))))
    return {
        "ttv_median_days": statistics.median(ttv), "on_time_pct": round(100 * on_time / (done + late_open), 1),
        "packet_completeness": round(sum(packets) / len(packets), 1),
        "accounts_at_risk": sum(b in RISK for b in bands.values()),
        "pipeline_amount": float(sum(a for (a,) in pipeline)), "pipeline_count": len(pipeline),
        "arr": float(sum(live.values())),
        "arr_at_risk": float(sum(v for a, v in live.items() if bands.get(a) in RISK)),
    }


def _retention(session, now: datetime, days: int = 90) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """GRR and NRR over the last `days` days, from the deals (signed, lost on) and the opportunities won."""
    from journey.models import Deal, DealStatus, Opportunity

    start = now.date() - timedelta(days=days)
    starting = churned = Decimal(0)
    cohort = set()
    for account_id, amount, signed_at, status, seen in session.execute(
            select(Deal.account_id, Deal.amount, Deal.signed_at, Deal.status, Deal.field_occurred_at)):
        lost_on = datetime.fromisoformat(seen["status"]).date() if status == DealStatus.lost else None
        if signed_at.date() <= start and (lost_on is None or lost_on > start):
            starting += amount
            cohort.add(account_id)
            churned += amount if lost_on is not None else 0
    won = sum((a for acc, a, closed in session.execute(
        select(Opportunity.account_id, Opportunity.amount, Opportunity.closed_at).where(Opportunity.stage == "won"))
        if acc in cohort and closed.date() > start), Decimal(0))
    return round(float((starting - churned) / starting), 4), round(float((starting - churned + won) / starting), 4)


@pytest.mark.clock("2027-03-03T12:00:00Z")
def test_the_demo_tells_the_story_and_the_dashboard_is_right_for_it(demo, client) -> None:
    from journey import db
    from journey.models import Account, HealthHistory, Journey, JourneyStatus, Reminder, Review, TeamMember

    now = datetime.now(UTC)
    with db.transaction(writer=False) as session:
        accounts = list(session.scalars(select(Account)))
        assert len(accounts) == 30
        assert {a.segment for a in accounts} == {"enterprise", "mid_market", "smb"}
        assert len({a.region for a in accounts}) == 4
        signed = list(session.scalars(select(Journey.signed_on)))
        assert min(signed) <= (now - timedelta(days=240)).date() and max(signed) >= (now - timedelta(days=14)).date()
        assert session.scalar(select(func.count()).select_from(Journey).where(
            Journey.status == JourneyStatus.paused)) == 1  # the churned account
        held = list(session.scalars(select(Review).where(Review.status == "held")))
        assert held and all(r.outcome for r in held)
        days = session.execute(select(HealthHistory.account_id, func.count()).group_by(HealthHistory.account_id)).all()
        assert max(n for _, n in days) >= 12  # a line over 90 days, not a dot
        roles = set(session.scalars(select(TeamMember.role).join(Reminder, Reminder.assignee_id == TeamMember.id)
                                    .where(Reminder.status == "open")))
        assert {"csm", "am", "ae", "manager", "revops"} <= {str(r) for r in roles}
        expected = _independent(session, now)
        grr, nrr = _retention(session, now)

    headers = member_with_token("auditor@test.example", "admin")
    body = client.get("/api/kpis/weekly", headers=headers).json()
    shown = {k["key"]: k["value"] for k in [*body["kpis"], *body["money"]]}
    for key in ("ttv_median_days", "on_time_pct", "packet_completeness", "accounts_at_risk", "pipeline_amount",
                "arr", "arr_at_risk"):
        assert shown[key] == pytest.approx(expected[key]), key
    assert 0 < expected["on_time_pct"] < 100 and expected["arr_at_risk"] > 0 and expected["pipeline_amount"] > 0
    assert (body["retention"]["grr"], body["retention"]["nrr"]) == (grr, nrr)
    assert grr < 1 < nrr or grr < nrr  # a loss and an expansion in the period
    assert all(k["last_week"] is not None for k in body["kpis"] if k["key"] != "ttv_median_days")
    pipeline = next(k for k in body["kpis"] if k["key"] == "pipeline_amount")
    assert pipeline["change"] == pytest.approx(18000)  # the opportunity the AM added this week: the week moved
    assert all(value is not None for _, value in body["history"]["arr_at_risk"])  # 12 weeks of snapshots

    assert sign_in(client, "manager@demo.example", demo.DEMO_PASSWORD).status_code == 303
    page = client.get("/team").text
    assert f"{expected['arr_at_risk']:,.0f}" in page and f"{expected['pipeline_amount']:,.0f}" in page
    assert f"{expected['on_time_pct']:.0f} %" in page
