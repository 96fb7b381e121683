"""The migration that adds the sign-in right keeps every existing member's access; new rows start without it."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from journey import migrations

BEFORE = "9c3a5e7d1f42"  # the revision before team_member.can_sign_in


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    from tests.conftest import _create_pg_database, _pg_reachable

    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    if not _pg_reachable():
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    return _create_pg_database()


def test_existing_members_keep_their_sign_in(empty_url) -> None:
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        migrations.upgrade(conn, revision=BEFORE)
        conn.execute(text("INSERT INTO team_member (email, name, role, timezone, segments, regions, languages, "
                          "active) VALUES ('old@vendor.example', 'Old', 'csm', 'UTC', '[]', '[]', '[]', :t)"),
                     {"t": True})
        conn.commit()
        migrations.upgrade(conn)
        conn.execute(text("INSERT INTO team_member (email, name, role, timezone, segments, regions, languages, "
                          "active) VALUES ('new@crm.example', 'New', 'csm', 'UTC', '[]', '[]', '[]', :t)"),
                     {"t": True})
        rows = dict(conn.execute(text("SELECT email, can_sign_in FROM team_member")).all())
        conn.commit()
    engine.dispose()
    assert {email: bool(value) for email, value in rows.items()} == {"old@vendor.example": True,
                                                                    "new@crm.example": False}
