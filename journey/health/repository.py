"""Every query of health: signals in and out, internal signals read set-based, scores and history.

The recompute works on batches of account ids: each function below answers for a whole batch in one
statement, so the number of queries grows with the number of batches, never with accounts or factors.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from journey.accounts.repository import visible_to
from journey.db import (
    among,
    among_param,
    bound_rows,
    dialect_insert,
    ids_value,
    insert_bound_rows,
    json_text,
    plain_table,
)
from journey.health.domain import HistoryPoint, SignalPoint
from journey.kit import as_utc, row_id
from journey.models import (
    Account,
    ContactHold,
    Deal,
    HandoffPacket,
    HealthHistory,
    HealthScore,
    Journey,
    Milestone,
    Objective,
    ObjectiveProgress,
    PlanTask,
    Review,
    Signal,
    TaskStatus,
    TeamMember,
)
from journey.models.base import UTCDateTime
from journey.policy import Action


def _insert(session: Session, model: type):  # type: ignore[no-untyped-def]
    return dialect_insert(session.get_bind().dialect.name, model)


# ------------------------------------------------------------------------------------------- signals
def insert_signals(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert signals, ignoring ids already stored; how many were new."""
    if not rows:
        return 0
    stmt = _insert(session, Signal).on_conflict_do_nothing(index_elements=["external_id"]).returning(Signal.id)
    return len(session.execute(stmt, list(rows)).all()) if len(rows) > 1 else len(
        session.execute(stmt.values(**rows[0])).all())


def account_ids_by_ref(session: Session, refs: Iterable[str], *, member: TeamMember | None = None) -> dict[str, int]:
    """`{ref: account id}` for the refs that exist (`"42"` or `"crm:<source>:<external id>"`), and that
    `member` may send signals for when given. A ref that cannot name an account is simply absent."""

    def scoped(stmt: Any) -> Any:
        return stmt if member is None else visible_to(stmt, member, Action.post_signals)

    refs = set(refs)
    by_id = {account_id: ref for ref in refs if (account_id := row_id(ref)) is not None}
    crm = {(source, external_id) for ref in refs if ref.startswith("crm:") and ref.count(":") >= 2
           for source, external_id in [ref.split(":", 2)[1:]]}
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(by_id), 500):
        for (account_id,) in session.execute(scoped(select(Account.id).where(Account.id.in_(chunk)))):
            found[by_id[account_id]] = account_id
    for chunk in _chunks(sorted(crm), 500):
        sources = {s for s, _ in chunk}
        externals = {e for _, e in chunk}
        stmt = select(Account.id, Account.crm_source, Account.crm_external_id).where(
            Account.crm_source.in_(sources), Account.crm_external_id.in_(externals))
        for account_id, source, external_id in session.execute(scoped(stmt)):
            if (source, external_id) in chunk:
                found[f"crm:{source}:{external_id}"] = account_id
    return found


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def signal_points(session: Session, account_ids: Sequence[int], *, since: datetime, until: datetime,
                  stale_metrics: Iterable[str] = ()) -> dict[int, list[SignalPoint]]:
    """Every signal of the accounts in (since, until], and of `stale_metrics` also before `since`
    (a days-since-last factor needs the last one however old), per account, in one statement."""
    stale = sorted(set(stale_metrics))
    after = or_(Signal.at > since, Signal.metric.in_(stale)) if stale else Signal.at > since
    stmt = (select(Signal.account_id, Signal.metric, Signal.value, Signal.at)
            .where(among(session, Signal.account_id, account_ids), Signal.at <= until, after))
    out: dict[int, list[SignalPoint]] = defaultdict(list)
    for account_id, metric, value, at in session.execute(stmt):
        out[account_id].append(SignalPoint(metric, float(value), at if at.tzinfo is UTC else _aware(at)))
    return out


def stage_facts(session: Session, account_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What a lifecycle stage on any past day needs: segment, every signature date (oldest first) and
    when the first value milestone was reached (None if never)."""
    first_value = (select(Journey.account_id.label("account_id"), func.min(Milestone.completed_at).label("at"))
                   .join(Milestone, Milestone.journey_id == Journey.id)
                   .where(Milestone.value_milestone.is_(True), Milestone.completed_at.is_not(None),
                          among(session, Journey.account_id, account_ids))
                   .group_by(Journey.account_id).subquery())
    stmt = (select(Account.id, Account.segment, Account.region, Account.timezone, first_value.c.at, Journey.signed_on)
            .outerjoin(first_value, first_value.c.account_id == Account.id)
            .outerjoin(Journey, Journey.account_id == Account.id)
            .where(among(session, Account.id, account_ids)).order_by(Account.id, Journey.signed_on))
    out: dict[int, dict[str, Any]] = {}
    for account_id, segment, region, timezone, value_at, signed_on in session.execute(stmt):
        fact = out.setdefault(account_id, {"segment": segment, "signed": [], "region": region, "timezone": timezone,
                                           "value_reached_at": None if value_at is None else _aware(value_at)})
        if signed_on is not None:
            fact["signed"].append(signed_on)
    return out


# ---------------------------------------------------------------------------------------- recompute
def account_ids_after(session: Session, after_id: int, limit: int) -> list[int]:
    stmt = select(Account.id).where(Account.id > after_id).order_by(Account.id).limit(limit)
    return list(session.scalars(stmt))


def account_facts(session: Session, account_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Segment, most recent signature date and whether a value milestone was reached, per account."""
    reached = (select(Journey.account_id.label("account_id"), literal(1).label("reached"))
               .join(Milestone, Milestone.journey_id == Journey.id)
               .where(Milestone.value_milestone.is_(True), Milestone.completed_at.is_not(None),
                      among(session, Journey.account_id, account_ids))
               .group_by(Journey.account_id).subquery())
    signed = (select(Journey.account_id.label("account_id"), func.max(Journey.signed_on).label("signed_on"))
              .where(among(session, Journey.account_id, account_ids)).group_by(Journey.account_id).subquery())
    stmt = (select(Account.id, Account.segment, Account.region, Account.timezone, Account.csm_id, signed.c.signed_on,
                   reached.c.reached)
            .outerjoin(signed, signed.c.account_id == Account.id)
            .outerjoin(reached, reached.c.account_id == Account.id)
            .where(among(session, Account.id, account_ids)))
    return {r.id: {"segment": r.segment, "signed_on": r.signed_on, "value_reached": bool(r.reached),
                   "region": r.region, "timezone": r.timezone, "csm_id": r.csm_id} for r in session.execute(stmt)}


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite aggregates hand back the stored text
        value = datetime.fromisoformat(value)
    return as_utc(value)


def plan_tasks(session: Session, account_ids: Sequence[int], due_by: date) -> dict[int, list[tuple[date, date | None]]]:
    """(due_on, done_on) of every task due by `due_by` and not skipped, per account: the plan factors weigh
    each one by how late it was done or has been open (`plan.due_tasks`). `done_on` is the UTC date of
    `done_at`, None while open; a task marked done without a time counts as done on its due date."""
    stmt = (select(Journey.account_id, PlanTask.due_on, PlanTask.status, PlanTask.done_at)
            .join(PlanTask, PlanTask.journey_id == Journey.id)
            .where(among(session, Journey.account_id, account_ids), PlanTask.status != TaskStatus.skipped,
                   PlanTask.due_on <= due_by))
    out: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for account_id, due_on, status, done_at in session.execute(stmt):
        done_on = None if status != TaskStatus.done else (_aware(done_at).date() if done_at is not None else due_on)
        out[account_id].append((due_on, done_on))
    return out


def packet_signals(session: Session, account_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    stmt = (select(HandoffPacket.account_id, func.max(HandoffPacket.completeness))
            .where(among(session, HandoffPacket.account_id, account_ids)).group_by(HandoffPacket.account_id))
    return {a: {"packet_completeness": float(c)} for a, c in session.execute(stmt)}


def review_signals(session: Session, account_ids: Sequence[int], today: date) -> dict[int, dict[str, float]]:
    """`reviews_held`: held / (held + missed) of the reviews due by today."""
    held = Review.status == "held"
    stmt = (select(Review.account_id, func.count(case((held, 1))), func.count(case((Review.status == "missed", 1))))
            .where(among(session, Review.account_id, account_ids), Review.due_on <= today).group_by(Review.account_id))
    out: dict[int, dict[str, float]] = {}
    for account_id, held_count, missed_count in session.execute(stmt):
        if held_count + missed_count:
            out[account_id] = {"reviews_held": held_count / (held_count + missed_count)}
    return out


def last_meetings(session: Session, account_ids: Sequence[int], now: datetime) -> dict[int, datetime]:
    """When each account last met us in a held review (its outcome time, else its booked start), up to `now`:
    the `meeting` a days-since-last factor reads when no newer `meeting` signal was sent."""
    when = func.coalesce(Review.held_at, Review.starts_at)
    stmt = (select(Review.account_id, func.max(when))
            .where(among(session, Review.account_id, account_ids), Review.status == "held", when <= now)
            .group_by(Review.account_id))
    return {account_id: _aware(at) for account_id, at in session.execute(stmt) if at is not None}


def count_accounts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Account)) or 0


def objective_signals(session: Session, account_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """`objective_progress`: mean progress from baseline to target of the active objectives measured."""
    dialect = session.get_bind().dialect.name
    progress: dict[int, list[float]] = defaultdict(list)
    for account_id, baseline, target, status, value in session.execute(
            _objective_statement(dialect), {"ids": ids_value(dialect, account_ids)}):
        if status == "achieved":
            progress[account_id].append(1.0)
        elif value is not None and baseline is not None and target is not None and target != baseline:
            progress[account_id].append(min(1.0, max(0.0, (value - baseline) / (target - baseline))))
    return {a: {"objective_progress": sum(p) / len(p)} for a, p in progress.items() if p}


@lru_cache(maxsize=2)
def _objective_statement(dialect: str) -> Any:
    latest = (select(ObjectiveProgress.objective_id, ObjectiveProgress.value,
                     func.row_number().over(partition_by=ObjectiveProgress.objective_id,
                                            order_by=(ObjectiveProgress.at.desc(), ObjectiveProgress.id.desc()))
                     .label("rn"))
              .join(Objective, Objective.id == ObjectiveProgress.objective_id)
              .where(among_param(dialect, Objective.account_id, "ids")).subquery())
    return (select(Objective.account_id, Objective.baseline, Objective.target, Objective.status, latest.c.value)
            .outerjoin(latest, and_(latest.c.objective_id == Objective.id, latest.c.rn == 1))
            .where(among_param(dialect, Objective.account_id, "ids"), Objective.active.is_(True)))


def deal_seats(session: Session, account_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Seats bought, from the deals (used when no `seats` signal was sent)."""
    stmt = (select(Deal.account_id, func.sum(Deal.seats)).where(among(session, Deal.account_id, account_ids),
                                                                Deal.seats.is_not(None), Deal.status == "won")
            .group_by(Deal.account_id))
    return {a: {"seats": float(s)} for a, s in session.execute(stmt) if s}


# ------------------------------------------------------------------------------------- scores, history
def scores_of(session: Session, account_ids: Sequence[int]) -> dict[int, Any]:
    """The stored (account_id, score, band, previous_band, band_changed_at) by account."""
    stmt = (select(HealthScore.account_id, HealthScore.score, HealthScore.band, HealthScore.previous_band,
                   HealthScore.band_changed_at).where(among(session, HealthScore.account_id, account_ids)))
    return {r.account_id: r for r in session.execute(stmt)}


def stored_score(session: Session, account_id: int) -> HealthScore | None:
    return session.get(HealthScore, account_id, populate_existing=True)


COPY_FROM_ROWS = 200  # PostgreSQL: from this many rows, COPY them in and upsert in one statement


def upsert_scores(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _upsert(session, "score", rows)


def upsert_history(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _upsert(session, "history", rows)


def _upsert(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Score or history rows in: one cached `INSERT ... ON CONFLICT DO UPDATE` executed for all of them, or
    on PostgreSQL for a large batch, COPY into a temporary table and one `INSERT ... SELECT ... ON CONFLICT`
    (psycopg's executemany sends a statement per row, even pipelined; COPY streams them)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(rows) >= COPY_FROM_ROWS:
        _copy_upsert(session, table, rows)
    elif dialect == "sqlite":  # the driver's executemany of rows bound column by column (`db.bound_rows`)
        target = _UPSERTED[table][0]
        columns = tuple(c.name for c in target.c if c.name in rows[0])  # the table's order, as the SQL lists them
        values = list(map(itemgetter(*columns), rows))
        insert_bound_rows(session, _upsert_statement(dialect, table, plain=True), columns,
                          bound_rows(session, target, columns, values))
    else:
        session.execute(_upsert_statement(dialect, table), list(rows))


_UPSERTED = {"score": (HealthScore.__table__, ("account_id",)),
             "history": (HealthHistory.__table__, ("account_id", "day"))}
_JSON_COLUMNS = {"contributions", "missing", "missing_inputs", "factors", "changes"}


def _copy_upsert(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """COPY the rows into a temporary copy of the table (dropped at once, and at commit at the latest),
    then upsert them all from it with the same conflict rule as `_upsert_statement`."""
    target, keys = _UPSERTED[table]
    columns = [target.c[c].name for c in rows[0]]  # the table's own column names (KeyError on any other)
    keep = [c for c in _upsert_keep(table) if c in columns]
    staging = f"_upsert_{target.name}"
    names = ", ".join(columns)
    json_at = [n for n, c in enumerate(columns) if c in _JSON_COLUMNS]
    time_at = [n for n, c in enumerate(columns) if isinstance(target.c[c].type, UTCDateTime)]
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} (LIKE {target.name} INCLUDING DEFAULTS) ON COMMIT DROP")
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = [row[c] for c in columns]
                for n in json_at:  # JSON null stays SQL NULL (the columns' none_as_null), as the INSERT binds it
                    values[n] = None if values[n] is None else json_text(values[n])
                for n in time_at:
                    values[n] = _utc_bind(values[n])
                copy.write_row(values)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in keep)
        cursor.execute(f"INSERT INTO {target.name} ({names}) SELECT {names} FROM {staging} "  # noqa: S608 (column names)
                       f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")
        cursor.execute(f"DROP TABLE {staging}")
    finally:
        cursor.close()


def _utc_bind(value: datetime | None) -> datetime | None:
    """What `UTCDateTime` binds on PostgreSQL: aware UTC (a naive time is refused)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _upsert_keep(table: str) -> tuple[str, ...]:
    """The columns a conflicting score or history row overwrites."""
    if table == "score":
        return ("score", "band", "scorecard", "scorecard_version", "stage", "computed_at", "contributions", "missing",
                "top_cost_factor", "previous_band", "band_changed_at", "computed_band", "evidence", "min_evidence",
                "missing_inputs")
    return ("score", "band", "scorecard_version", "factors", "changes")


@lru_cache(maxsize=8)
def _upsert_statement(dialect: str, table: str, *, plain: bool = False) -> Any:
    """`INSERT ... ON CONFLICT DO UPDATE` of score or history rows, built once per dialect (executemany); on the
    table without column types with `plain` (rows already bound: `db.insert_bound_rows`)."""
    target, keys = _UPSERTED[table]
    stmt = dialect_insert(dialect, plain_table(target) if plain else target)
    keep = _upsert_keep(table)
    return stmt.on_conflict_do_update(index_elements=list(keys), set_={k: stmt.excluded[k] for k in keep})


def history(session: Session, account_id: int, *, since: date) -> list[HistoryPoint]:
    stmt = (select(HealthHistory.day, HealthHistory.score, HealthHistory.band, HealthHistory.changes)
            .where(HealthHistory.account_id == account_id, HealthHistory.day >= since).order_by(HealthHistory.day))
    return [HistoryPoint(d, s, b, tuple(c or ())) for d, s, b, c in session.execute(stmt)]


def factors_before(session: Session, account_ids: Sequence[int], day: date, *, inclusive: bool = False
                   ) -> dict[int, tuple[date, dict[str, Any]]]:
    """Each account's last scored day before `day` (or on it) with its factors (null on a day = those of the
    last day before it that has them). One statement per batch: two seeks of the (account, day) index per
    account, whatever the length of the history (a year of nightly rows is not read to find the last)."""
    def before(h: Any) -> Any:
        return h.day <= day if inclusive else h.day < day

    last, with_factors = aliased(HealthHistory), aliased(HealthHistory)
    last_day = select(func.max(last.day)).where(last.account_id == Account.id, before(last)).scalar_subquery()
    factors = (select(with_factors.factors)
               .where(with_factors.account_id == Account.id, before(with_factors), with_factors.factors.is_not(None))
               .order_by(with_factors.day.desc()).limit(1).scalar_subquery())
    stmt = select(Account.id, last_day, factors).where(among(session, Account.id, account_ids))
    return {a: (d, f) for a, d, f in session.execute(stmt) if d is not None and f is not None}


def scores_days_ago(session: Session, account_ids: Sequence[int], day: date) -> dict[int, tuple[date, float]]:
    """Each account's (day, score) of `day`, or of the last day before it with a score, within a week."""
    stmt = (select(HealthHistory.account_id, HealthHistory.score, HealthHistory.day)
            .where(among(session, HealthHistory.account_id, account_ids), HealthHistory.day <= day,
                   HealthHistory.day > day - timedelta(days=7)))
    best: dict[int, tuple[date, float]] = {}
    for account_id, value, on in session.execute(stmt):
        if account_id not in best or on > best[account_id][0]:
            best[account_id] = (on, value)
    return best


def health_refs(session: Session, account_ids: Iterable[int]) -> dict[int, tuple[float, str]]:
    ids = list(account_ids)
    if not ids:
        return {}
    stmt = (select(HealthScore.account_id, HealthScore.score, HealthScore.band)
            .where(among(session, HealthScore.account_id, ids)))
    return {a: (s, b) for a, s, b in session.execute(stmt)}


def contact_holds(session: Session, account_ids: Sequence[int], today: date) -> set[int]:
    stmt = select(ContactHold.account_id).where(among(session, ContactHold.account_id, account_ids))
    stmt = stmt.where((ContactHold.until.is_(None)) | (ContactHold.until >= today))
    return set(session.scalars(stmt))
