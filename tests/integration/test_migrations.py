"""The schema comes from the migrations, and the models agree with it (no autogenerate drift)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from journey.migrations import current_revision, head_revision
from journey.models import Base


def test_migrations_reach_head_without_drift(database_url) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata)
                if not (isinstance(d, tuple) and "apscheduler" in str(d))]
    engine.dispose()
    assert diff == []


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> str:
    """A database of its own, with no schema yet (to upgrade step by step)."""
    import os

    from tests.conftest import PG_URL, _create_pg_database, _pg_reachable

    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    if not _pg_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_URL}")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    return _create_pg_database()


def test_the_current_revision_is_read_without_a_log_line(empty_database, caplog) -> None:
    """`/readyz` asks for it on every probe: alembic's own MigrationContext logged two INFO lines each time."""
    from journey import migrations

    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert current_revision(conn) is None  # never upgraded
        migrations.upgrade(conn, "486c5ad3f476")
        conn.commit()
        caplog.clear()
        with caplog.at_level("DEBUG"):
            assert current_revision(conn) == "486c5ad3f476"
        assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []
    engine.dispose()


def test_upgrading_gives_old_tokens_an_expiry_and_ends_what_inactive_members_held(empty_database) -> None:
    """Before expiry existed tokens had none, and deactivating a member left their tokens and sessions."""
    import sqlalchemy as sa

    from journey import migrations

    member = sa.table("team_member", *(sa.column(c) for c in ("id", "email", "name", "role", "timezone", "active")),
                      *(sa.column(c, sa.JSON) for c in ("segments", "regions", "languages")))
    token = sa.table("api_token", *(sa.column(c) for c in ("id", "member_id", "digest", "label")),
                     sa.column("revoked_at", sa.DateTime(timezone=True)),
                     sa.column("expires_at", sa.DateTime(timezone=True)))
    web_session = sa.table("web_session", *(sa.column(c) for c in ("member_id", "digest", "user_agent")),
                           *(sa.column(c, sa.DateTime(timezone=True)) for c in ("created_at", "expires_at")))
    now = datetime.now(UTC)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        migrations.upgrade(conn, "486c5ad3f476")  # the revision before token expiry
        for n, active in ((1, True), (2, False)):
            conn.execute(member.insert().values(id=n, email=f"m{n}@x.example", name="M", role="csm", timezone="UTC",
                                                active=active, segments=[], regions=[], languages=[]))
            conn.execute(token.insert().values(id=n, member_id=n, digest=f"{n:064d}", label="cli"))
            conn.execute(web_session.insert().values(member_id=n, digest=f"{n:064d}", user_agent=None,
                                                     created_at=now.replace(tzinfo=None), expires_at=now.replace(
                                                         tzinfo=None) + timedelta(days=1)))
        conn.commit()
        migrations.upgrade(conn)
        conn.commit()
        tokens = {row.id: row for row in conn.execute(sa.select(token))}
        sessions = conn.execute(sa.select(web_session.c.member_id)).scalars().all()
    engine.dispose()
    for row in tokens.values():
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        assert timedelta(days=89) < expires - now < timedelta(days=91)
    assert tokens[1].revoked_at is None and tokens[2].revoked_at is not None
    assert sessions == [1]
