"""The book page's queries: what they count, and (on SQLite, whose planner has no statistics unless someone
runs ANALYZE) that they find a page's or a CSM's tasks and reviews through their journeys and accounts
instead of walking every open task or review of the database. The plans are checked on the bench's own
rows, so a query rewritten into the slow shape fails here before it reaches the 10k-account bench."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from bench.pages import CSMS, _rows
from journey import models
from journey.accounts import read_repository as book_reads
from journey.models import Account, PlanTask, Role, TeamMember

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TABLES = [("account", models.Account), ("deal", models.Deal), ("journey", models.Journey),
          ("milestone", models.Milestone), ("task", models.PlanTask), ("packet", models.HandoffPacket),
          ("review", models.Review), ("reminder", models.Reminder)]


@pytest.fixture
def book(session: Session) -> Session:
    """120 accounts shaped like the bench's: 3 per CSM, 21 tasks each, some late, 3 reviews each."""
    people = [dict(id=2, email="ae@x.example", name="ae", role=Role.ae)]
    people += [dict(id=i, email=f"m{i}@x.example", name=f"m{i}", role=Role.csm if i < 3 + 40 else Role.am)
               for i in range(3, 3 + 80)]
    people += [dict(id=100, email="boss@x.example", name="boss", role=Role.manager)]
    session.execute(insert(TeamMember), people)
    rows = _rows(120, TODAY, NOW)
    for name, model in TABLES:
        session.execute(insert(model), rows[name])
    session.flush()
    return session


def _member(session: Session, member_id: int) -> TeamMember:
    return session.get(TeamMember, member_id)  # type: ignore[return-value]


def _expected_counts(session: Session, account_ids: list[int]) -> dict[int, tuple[int, int]]:
    out = {}
    for account_id in account_ids:
        stmt = select(PlanTask.status, PlanTask.due_on).join(models.Journey).where(
            models.Journey.account_id == account_id)
        tasks = session.execute(stmt).all()
        open_ = [due for status, due in tasks if status in book_reads.OPEN_TASK]
        out[account_id] = (len(open_), sum(1 for due in open_ if due < TODAY))
    return out


def test_task_counts_are_open_and_late_tasks_per_account(book: Session) -> None:
    ids = list(range(1, 121))
    got = book_reads.task_counts(book, ids, TODAY)
    expected = _expected_counts(book, ids)
    assert {a: got.get(a, (0, 0)) for a in ids} == expected
    assert any(late for _, late in expected.values()) and any(n == 0 for n, _ in expected.values())


def test_a_csms_summary_and_overdue_filter_cover_their_book_only(book: Session) -> None:
    csm = _member(book, 3)
    mine = [a.id for a in book.scalars(select(Account).where(Account.csm_id == 3))]
    expected = _expected_counts(book, mine)
    summary = book_reads.book_summary(book, csm, TODAY)
    assert summary["overdue_tasks"] == sum(late for _, late in expected.values())
    rows, total = book_reads.book_page(book, csm, book_reads.BookFilter(attention="overdue"), TODAY, offset=0, limit=50)
    assert sorted(r.id for r in rows) == sorted(a for a, (_, late) in expected.items() if late)
    assert total == len(rows)


@pytest.mark.parametrize("member_id", [3, 100], ids=["csm", "manager"])
@pytest.mark.parametrize("attention", ["", "overdue", "reviews"])
def test_book_queries_never_walk_every_open_task_or_review(book: Session, member_id: int, attention: str) -> None:
    if book.get_bind().dialect.name != "sqlite":
        pytest.skip("the plans of SQLite's statistics-free planner; PostgreSQL plans by its own statistics")
    member = _member(book, member_id)
    seen: list[tuple[str, object]] = []
    conn = book.connection()

    def capture(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        f = book_reads.BookFilter(attention=attention)
        rows, _ = book_reads.book_page(book, member, f, TODAY, offset=0, limit=50)
        book_reads.task_counts(book, [r.id for r in rows], TODAY)
        book_reads.next_reviews(book, [r.id for r in rows], TODAY)
        book_reads.book_summary(book, member, TODAY)
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    plans = {statement: " | ".join(str(row[-1]) for row in conn.exec_driver_sql(
        f"EXPLAIN QUERY PLAN {statement}", parameters)) for statement, parameters in seen}  # type: ignore[arg-type]
    for statement, plan in plans.items():
        assert "SCAN plan_task" not in plan and "SCAN review" not in plan, (statement, plan)
        if member.role == Role.csm:  # a book of ~250 accounts is read from the book, not from every open row
            assert "ix_plan_task_status_due" not in plan and "ix_review_status_due" not in plan, (statement, plan)
        elif "GROUP BY journey.account_id" in statement:  # a page's counts go through its journeys
            assert "ix_plan_task_journey_status_due" in plan, (statement, plan)
    assert CSMS == 40  # the member ids above follow the bench's 40 CSMs then 40 AMs
