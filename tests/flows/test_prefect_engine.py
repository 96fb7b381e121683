"""The flows run under Prefect's real engine (its temporary server), not only as plain functions.

Measured (docs/engine-facts.md): Prefect 3.8 with a too-new fastapi crashes on the first real flow run, so a
test must run one.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from journey import db
from journey.models import EventStatus, InboundEvent, Journey, Review
from tests.builders import deal_signed, event, post_event

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("db_url")]


@pytest.fixture(scope="session")
def prefect_engine(tmp_path_factory):  # type: ignore[no-untyped-def]
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect"))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


def test_signed_then_updated_deal_through_the_engine(client, prefect_engine, monkeypatch) -> None:
    from journey.config import get_settings
    from tests.builders import drain

    monkeypatch.setenv("JOURNEY_ORCHESTRATOR", "prefect")
    get_settings.cache_clear()
    post_event(client, deal_signed())
    post_event(client, event("deal.updated", {"deal": {"id": "D-1001", "expected_go_live": "2027-02-15"}},
                             timestamp="2026-11-22T10:00:00Z"))
    assert drain() == ["processed", "processed"]
    with db.transaction(writer=False) as s:
        assert s.scalar(select(func.count()).select_from(Journey)) == 1
        assert s.scalar(select(func.count()).select_from(Review)) == 3
        assert set(s.scalars(select(InboundEvent.status))) == {EventStatus.processed}
        assert str(s.scalars(select(Journey.go_live_on)).one()) == "2027-02-15"
