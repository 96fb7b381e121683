"""Evaluate on change: what moves an account's inputs marks it, and one pass rescores it and evaluates its
risk and expansion rules within seconds; evaluating more often never sends more, hold-backs still hold."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from journey import db
from journey.audit import Actor
from journey.config import get_settings
from journey.evaluation import jobs as evaluation_jobs
from journey.evaluation import repository as evaluation_repository
from journey.evaluation import service as evaluation
from journey.jobs.registry import jobs_for, run_job
from journey.models import (
    Account,
    ActorKind,
    AuditEntry,
    Deal,
    HealthScore,
    Journey,
    Objective,
    PendingEvaluation,
    Reminder,
    Review,
    Role,
    TeamMember,
)
from journey.reviews import lifecycle
from tests.builders import deal_signed, drain, member_with_token, post_event
from tests.integration.test_health_recompute import ACTOR, GREEN, NOW, account, member, signals

SWEEP = Actor(ActorKind.scheduler, "evaluate_changed_accounts")


def sweep(now: datetime | None = None, *, debounce: bool = True) -> dict[str, int]:
    """The scheduler's evaluate_changed_accounts job, as it runs every second."""
    [job] = [j for j in jobs_for(get_settings()) if j.name == "evaluate_changed_accounts"]
    return run_job(job, now=now or datetime.now(UTC), actor=SWEEP, debounce=debounce)


def pending() -> dict[int, int]:
    with db.transaction(writer=False) as s:
        return dict(s.execute(select(PendingEvaluation.account_id, PendingEvaluation.marks)).tuples().all())


def expansion_reminders(email: str) -> list[Reminder]:
    with db.transaction(writer=False) as s:
        am = s.scalar(select(TeamMember).where(TeamMember.email == email))
        return list(s.scalars(select(Reminder).where(Reminder.assignee_id == am.id,
                                                     Reminder.kind.like("expansion.%")).order_by(Reminder.id)))


def _item(n: int, account_id: int, metric: str, value: float, *, days_ago: float = 1) -> dict:
    at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    return {"id": f"{metric}-{account_id}-{n}", "account": str(account_id), "metric": metric, "value": value, "at": at}


@pytest.fixture
def green_account(db_url) -> tuple[int, dict[str, str], dict[str, str]]:
    """An account with a CSM and an AM; the admin's and the AM's API headers."""
    admin = member_with_token("admin@x.example", "admin")
    am_headers = member_with_token("am@x.example", "am")
    member_with_token("csm@x.example", "csm")
    with db.transaction() as s:
        people = {m.email: m.id for m in s.scalars(select(TeamMember))}
        acc = Account(crm_source="events", crm_external_id="Acme", name="Acme", segment="mid_market", timezone="UTC",
                      csm_id=people["csm@x.example"], am_id=people["am@x.example"])
        s.add(acc)
        s.flush()
        return acc.id, admin, am_headers


def test_an_escalation_closed_by_a_signal_lets_the_am_hear_at_once_and_once(client, green_account) -> None:
    account_id, admin, am = green_account
    items = [_item(1, account_id, m, v) for m, v in (GREEN | {"objective_progress": 1.0, "escalation_open": 1}).items()]
    r = client.post("/api/signals", json={"items": items}, headers=admin)
    assert (r.status_code, r.json()["recomputed"], r.json()["queued"]) == (200, 1, 0)  # evaluated before the answer
    with db.transaction(writer=False) as s:
        assert s.get_one(HealthScore, account_id).band == "green"  # green, but the escalation holds it back
    for n in range(5):  # evaluated five more times (signals, the sweep): still held back
        client.post("/api/signals", json={"items": [_item(10 + n, account_id, "nps", 60)]}, headers=admin)
        sweep(debounce=False)
    assert expansion_reminders("am@x.example") == []

    closed = client.post("/api/signals", json={"items": [_item(2, account_id, "escalation_open", 0, days_ago=0.01)]},
                         headers=admin)
    assert closed.status_code == 200
    [reminder] = client.get("/api/reminders", headers=am).json()["items"]  # visible as the answer came back
    assert reminder["kind"] == "expansion.objectives_achieved"
    assert reminder["reason"].startswith("Acme: objectives at 100% of target and health")
    for n in range(5):  # evaluate five more times: one reminder, its cool-down holds
        client.post("/api/signals", json={"items": [_item(20 + n, account_id, "nps", 60)]}, headers=admin)
        sweep(debounce=False)
    assert len(expansion_reminders("am@x.example")) == 1
    assert pending() == {}


def test_a_large_batch_is_queued_and_the_sweep_evaluates_each_account_once(client, db_url) -> None:
    admin = member_with_token("admin@x.example", "admin")
    with db.transaction() as s:
        accounts = [Account(crm_source="events", crm_external_id=f"A{i}", name=f"A{i}", timezone="UTC")
                    for i in range(25)]
        s.add_all(accounts)
        s.flush()
        ids = [a.id for a in accounts]
    for batch in range(4):  # four batches touch every account: one evaluation each, not four
        items = [_item(batch, a, m, v) for a in ids for m, v in (("active_users", 10 + batch), ("seats", 100))]
        r = client.post("/api/signals", json={"items": items}, headers=admin)
        assert (r.status_code, r.json()["queued"], r.json()["recomputed"]) == (202, 25, 0)
    assert pending() == dict.fromkeys(ids, 4)
    with db.transaction(writer=False) as s:
        assert s.scalar(select(func.count()).select_from(HealthScore)) == 0  # not scored before the sweep
    with db.transaction(writer=False) as s:
        last = s.scalar(select(func.max(PendingEvaluation.last_marked_at)))
    assert sweep(last + timedelta(seconds=0.05))["accounts"] == 0  # the burst just happened: it waits for it to settle
    done = sweep(datetime.now(UTC) + timedelta(seconds=2))
    assert done["accounts"] == 25 and pending() == {}
    with db.transaction(writer=False) as s:
        scores = s.execute(select(HealthScore.account_id, HealthScore.contributions)).all()
    assert len(scores) == 25
    assert {c["value"] for _, cs in scores for c in cs if c["factor"] == "seat_utilisation"} == {0.13}  # the last
    assert sweep(datetime.now(UTC) + timedelta(seconds=3))["accounts"] == 0


def _accounts(*names: str) -> list[int]:
    with db.transaction() as s:
        rows = [Account(crm_source="events", crm_external_id=n, name=n, timezone="UTC") for n in names]
        s.add_all(rows)
        s.flush()
        return [a.id for a in rows]


def _mark(account_id: int, at: datetime) -> None:
    with db.transaction() as s:
        evaluation_repository.mark(s, [account_id], now=at)


def test_the_sweep_takes_everything_once_the_burst_settles_but_never_waits_more_than_the_longest_wait(db_url) -> None:
    busy, chatty = _accounts("Busy", "Chatty")
    t0 = datetime.now(UTC)
    _mark(busy, t0)
    assert sweep(t0 + timedelta(seconds=0.05))["accounts"] == 0  # marked 0.05 s ago: the burst may go on
    for seconds in (3, 6, 9.5):  # still changing every few seconds
        _mark(busy, t0 + timedelta(seconds=seconds))
    _mark(chatty, t0 + timedelta(seconds=9.75))
    assert sweep(t0 + timedelta(seconds=9.8))["accounts"] == 0  # the list is busy; Busy changed 0.3 s ago
    _mark(chatty, t0 + timedelta(seconds=9.95))
    assert sweep(t0 + timedelta(seconds=10))["accounts"] == 1  # Busy waited 10 s: taken however busy
    assert list(pending()) == [chatty]
    assert sweep(t0 + timedelta(seconds=10.3))["accounts"] == 1  # nothing marked for 0.35 s: settled
    assert pending() == {}


def test_the_schedulers_sweep_settles_after_twice_the_bursts_rhythm_not_the_full_settle_time(db_url) -> None:
    [quick] = _accounts("Quick")
    rhythm = evaluation_jobs.Rhythm()  # the scheduler's: told of three batches 20 ms apart
    for at in (50.0, 50.02, 50.04):
        rhythm.marked(at, longest=get_settings().evaluate_settle_seconds)
    [job] = [j for j in jobs_for(get_settings(), rhythm=rhythm) if j.name == "evaluate_changed_accounts"]
    t0 = datetime.now(UTC)
    _mark(quick, t0)
    assert run_job(job, now=t0 + timedelta(seconds=0.03), actor=SWEEP)["accounts"] == 0  # silent for less than 40 ms
    assert sweep(t0 + timedelta(seconds=0.05))["accounts"] == 0  # without the rhythm: waits the 0.1 s settle
    assert run_job(job, now=t0 + timedelta(seconds=0.05), actor=SWEEP)["accounts"] == 1  # twice the rhythm: over
    assert pending() == {}


def test_a_settled_list_is_evaluated_in_larger_transactions_than_a_busy_one(db_url) -> None:
    ids = _accounts(*(f"S{i}" for i in range(260)))
    t0 = datetime.now(UTC)
    with db.transaction() as s:
        evaluation_repository.mark(s, ids, now=t0)
    [job] = [j for j in jobs_for(get_settings()) if j.name == "evaluate_changed_accounts"]
    busy: list[int] = []
    _mark(ids[0], t0 + timedelta(seconds=11.95))  # marks keep coming; all waited past the longest wait (10 s)
    run_job(job, now=t0 + timedelta(seconds=12), actor=SWEEP, on_advance=busy.append)
    assert busy == [50, 50, 50, 50, 50, 10]  # 50 per transaction while intake may be writing
    settled: list[int] = []
    with db.transaction() as s:
        evaluation_repository.mark(s, ids, now=t0 + timedelta(seconds=20))
    run_job(job, now=t0 + timedelta(seconds=21), actor=SWEEP, on_advance=settled.append)
    assert settled == [250, 10] and pending() == {}  # nothing marked for a second: the burst is over


def test_while_the_list_stays_busy_a_quiet_account_is_taken_after_a_quiet_second(db_url) -> None:
    quiet, chatty = _accounts("Quiet", "Chatty")
    t0 = datetime.now(UTC)
    _mark(quiet, t0)
    for seconds in (0.2, 0.4, 0.6, 0.8, 1.0, 1.15):
        _mark(chatty, t0 + timedelta(seconds=seconds))
    assert sweep(t0 + timedelta(seconds=0.9))["accounts"] == 0  # busy list, Quiet changed 0.9 s ago
    assert sweep(t0 + timedelta(seconds=1.2))["accounts"] == 1  # busy list, Quiet unchanged for 1.2 s
    assert list(pending()) == [chatty]


@pytest.mark.clock("2027-03-01T09:00:00Z")  # after the 90-day review: its outcome can be recorded
def test_every_writer_marks_the_account_it_changed(client, db_url) -> None:
    post_event(client, deal_signed())
    assert drain() == ["processed"]
    csm = member_with_token("csm@vendor.example", "csm")
    am = member_with_token("am@vendor.example", "am")
    with db.transaction(writer=False) as s:
        account_id = s.scalar(select(Account.id))
    plan = client.get(f"/api/accounts/{account_id}/plan", headers=csm).json()
    task = next(t for m in plan["milestones"] for t in m["tasks"] if t["raci"]["responsible"] == "csm")

    def marked_by(response) -> bool:  # type: ignore[no-untyped-def]
        assert response.status_code < 300, response.text
        with db.transaction() as s:  # take the mark off for the next writer
            return evaluation_repository.claim(s, quiet_since=datetime.now(UTC), waiting_since=datetime.now(UTC),
                                               limit=10) == [account_id]

    assert pending() == {}
    for who in (am, csm):
        assert marked_by(client.post(f"/api/accounts/{account_id}/handoff/acknowledgements", headers=who,
                                     json={"decision": "accept"}))
    assert marked_by(client.patch(f"/api/tasks/{task['id']}", headers=csm, json={"action": "done"}))
    assert marked_by(client.put(f"/api/accounts/{account_id}/go-live", headers=csm,
                                json={"date": "2027-04-15", "reason": "customer IT freeze"}))
    review = client.get(f"/api/accounts/{account_id}/reviews", headers=csm).json()["items"][0]
    assert marked_by(client.post(f"/api/reviews/{review['id']}/outcome", headers=csm,
                                 json={"notes": "held", "progress": [], "expansion_opportunities": [],
                                       "next_steps": []}))


def _review_with_objective(session, acc: Account) -> Review:  # type: ignore[no-untyped-def]
    deal = Deal(account_id=acc.id, crm_source="events", crm_external_id="D-1", name="D-1")
    session.add(deal)
    session.flush()
    journey = Journey(deal_id=deal.id, account_id=acc.id, playbook="default", playbook_version=1,
                      signed_on=NOW.date() - timedelta(days=200))
    session.add(journey)
    session.flush()
    session.add(Objective(journey_id=journey.id, account_id=acc.id, title="Faster onboarding", baseline=21, target=7,
                          created_at=NOW, updated_at=NOW))
    review = Review(journey_id=journey.id, account_id=acc.id, kind="6_month", title="Six-month review",
                    anchor="signature", due_on=NOW.date() - timedelta(days=1), status="scheduled",
                    starts_at=NOW - timedelta(days=1), ends_at=NOW - timedelta(days=1) + timedelta(hours=1))
    session.add(review)
    session.flush()
    return review


def test_a_review_outcome_that_reaches_the_objective_reminds_the_am_in_the_same_pass(session) -> None:
    csm, am = member(session, "csm@x.example", Role.csm), member(session, "am@x.example", Role.am)
    acc = account(session, name="Acme", csm=csm, am=am)
    review = _review_with_objective(session, acc)
    signals(session, acc, GREEN, days_ago=2)
    assert evaluation.evaluate(session, account_ids=[acc.id], now=NOW, actor=ACTOR).expansion_reminders == 0

    lifecycle.record_outcome(session, review=review, notes="Target reached", expansion_opportunities=[],
                             progress=[{"objective": "Faster onboarding", "value": 7, "comment": "from 21"}],
                             next_steps=[], actor=Actor.user(csm.email), now=NOW)
    assert session.get(PendingEvaluation, acc.id) is not None  # marked by the outcome
    done = evaluation.evaluate_marked(session, account_ids=[acc.id], now=NOW, actor=ACTOR)
    assert done.accounts == 1 and done.expansion_reminders == 1
    [reminder] = session.scalars(select(Reminder).where(Reminder.kind == "expansion.objectives_achieved")).all()
    assert reminder.assignee_id == am.id and "objectives at 100% of target" in reminder.reason
    assert session.get(PendingEvaluation, acc.id) is None
    for _ in range(5):  # evaluated five more times: still one reminder
        evaluation.evaluate(session, account_ids=[acc.id], now=NOW + timedelta(minutes=5), actor=ACTOR)
    assert session.scalar(select(func.count()).select_from(Reminder).where(Reminder.kind.like("expansion.%"))) == 1


def test_a_claimed_account_is_not_claimed_by_a_second_sweep(db_url) -> None:
    with db.transaction() as s:
        accounts = [Account(crm_source="events", crm_external_id=f"C{i}", name=f"C{i}", timezone="UTC")
                    for i in range(3)]
        s.add_all(accounts)
        s.flush()
        ids = [a.id for a in accounts]
        evaluation_repository.mark(s, ids, now=datetime.now(UTC) - timedelta(minutes=1))
    later = datetime.now(UTC)
    with db.transaction() as first:
        taken = evaluation_repository.claim(first, quiet_since=later, waiting_since=later, limit=2)
        if not db_url.startswith("sqlite"):  # SQLite: the writer lock makes the second sweep wait instead
            with db.transaction() as second:
                assert evaluation_repository.claim(second, quiet_since=later, waiting_since=later, limit=10) == [
                    i for i in ids if i not in taken]
    assert len(taken) == 2 and set(pending()) <= set(ids) - set(taken)


def test_journey_import_signals_evaluates_the_accounts_it_touched_before_it_ends(green_account, tmp_path) -> None:
    from typer.testing import CliRunner

    from journey.cli import app

    account_id, _, _ = green_account
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    csv = tmp_path / "signals.csv"
    csv.write_text("id,account,metric,value,at\n" + "".join(
        f"i-{m},{account_id},{m},{v},{at}\n" for m, v in (GREEN | {"objective_progress": 1.0}).items()))
    result = CliRunner().invoke(app, ["import", "signals", str(csv)])
    assert result.exit_code == 0, result.output
    assert "1 accounts rescored" in result.output
    [reminder] = expansion_reminders("am@x.example")
    assert reminder.kind == "expansion.objectives_achieved" and pending() == {}


def test_a_month_of_full_seats_reaches_the_am_with_the_signal_that_completes_it(client, green_account) -> None:
    account_id, admin, am = green_account
    month = [_item(d, account_id, "active_users", 98, days_ago=d + 0.5) for d in range(1, 32, 2)]
    rest = [_item(0, account_id, m, v) for m, v in GREEN.items() if m != "active_users"]
    assert client.post("/api/signals", json={"items": rest + month[:10]}, headers=admin).status_code == 200
    assert expansion_reminders("am@x.example") == []  # 19 days of data: the rule asks for 30
    assert client.post("/api/signals", json={"items": month[10:]}, headers=admin).status_code == 200
    [reminder] = client.get("/api/reminders", headers=am).json()["items"]
    assert reminder["kind"] == "expansion.seat_utilisation"
    assert reminder["reason"].startswith("Acme: at least 98 of 100 seats in use every day for 30 days (98%")


def test_the_warm_up_at_the_schedulers_start_writes_nothing(db_url) -> None:
    [busy] = _accounts("Warm")
    _mark(busy, datetime.now(UTC))
    with db.transaction(writer=False) as s:
        audits = s.scalar(select(func.count()).select_from(AuditEntry))
    evaluation_jobs.warm_up()  # evaluates one account to compile the statements, then rolls back
    with db.transaction(writer=False) as s:
        assert s.scalar(select(func.count()).select_from(HealthScore)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert pending() == {busy: 1}  # still on the work list: the sweep evaluates it for real
    assert sweep(debounce=False)["accounts"] == 1
