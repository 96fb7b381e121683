"""The schema comes from the migrations, and the models agree with it (no autogenerate drift)."""
from __future__ import annotations

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
