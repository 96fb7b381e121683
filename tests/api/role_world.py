"""One world for the role matrix, built once per database: a signed deal with its AE, SE, CSM and AM, a
manager, an admin, someone of each book role outside this account, and what the actions act on (reviews,
a task, an objective, an inbox event, reminders). Each case of the matrix then runs in a transaction
that is rolled back (`rolled_back`), so the world is the same for every case and is built only twice."""
from __future__ import annotations

import html as html_lib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.builders import deal_signed, drain, form_fields, post_event

BUILT_AT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Paris
CASES_AT = "2026-11-25T12:00:00Z"  # the review booked at build time has started by then
SECRET_KEY = "role-matrix-secret-key-0123456789abcdefghij"
INSIDERS = ("ae", "se", "csm", "am", "manager", "admin", "revops")
OUTSIDERS = ("ae", "se", "csm", "am")  # the same book roles, on no deal and owning nothing


@dataclass(frozen=True)
class Persona:
    name: str
    id: int
    role: str
    email: str
    token: str
    session_token: str
    reminder_id: int

    @property
    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def web(self) -> dict[str, str]:
        from journey.web.auth import SESSION_COOKIE, session_cookie_value

        return {"cookie": f"{SESSION_COOKIE}={session_cookie_value(self.session_token)}"}

    def csrf(self) -> str:
        from journey.web.auth import csrf_for

        return csrf_for(self.session_token)


@dataclass
class World:
    url: str
    personas: dict[str, Persona]
    ids: dict[str, Any] = field(default_factory=dict)
    members: dict[str, tuple[int, str]] = field(default_factory=dict)  # name: (id, role) of the targets
    edit_form: dict[str, list[str]] = field(default_factory=dict)


def settings_env(url: str, data_dir: str) -> dict[str, str]:
    from tests.conftest import WEBHOOK_SECRET

    return {"JOURNEY_DATABASE_URL": url, "JOURNEY_SECRET_KEY": SECRET_KEY, "JOURNEY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "JOURNEY_ORCHESTRATOR": "inline", "JOURNEY_DEMO": "0", "JOURNEY_DATA_DIR": data_dir,
            "JOURNEY_PUBLIC_BASE_URL": "http://testserver"}


def build(client, url: str) -> World:  # type: ignore[no-untyped-def]
    """The world, at BUILT_AT (the caller sets the clock and the settings)."""
    from journey import db
    from journey.models import Account, InboundEvent
    from journey.team import service as team_service

    people = {f"{r}": (f"{r}@vendor.example", r) for r in INSIDERS}
    people |= {f"other {r}": (f"other.{r}@vendor.example", r) for r in OUTSIDERS}
    targets = {"another admin": ("admin2@vendor.example", "admin"), "another manager": ("manager2@vendor.example",
                                                                                         "manager")}
    with db.transaction() as session:
        for email, role in [*people.values(), *targets.values()]:
            team_service.create_member(session, email=email, name=email.split("@")[0], role=role)
    owners = {r: {"email": f"{r}@vendor.example", "name": r.upper()} for r in ("ae", "se", "csm", "am")}
    assert post_event(client, deal_signed("D-M", "C-M", owners=owners)).status_code == 202
    assert drain() == ["processed"]
    with db.transaction() as session:
        account = session.scalars(select(Account)).one()
        world = World(url=url, personas={})
        world.ids = _things(session, account.id)
        world.ids["event"] = session.scalars(select(InboundEvent.id)).one()
        world.personas = {name: _persona(session, name, email, account.id) for name, (email, _) in people.items()}
        world.members = {name: (_member_id(session, email), role) for name, (email, role) in
                         {**targets, "a csm": people["other csm"]}.items()}
        world.ids["someone's reminder"] = _reminder(session, world.members["another admin"][0], account.id)
        world.ids["share link"] = _share_link(session, account.id)
        _override_health(session, account)
        world.ids["dead crm write"] = _dead_crm_write(session, account.id)
    world.edit_form = _edit_form(client, world)
    return world


def _dead_crm_write(session: Session, account_id: int) -> int:
    """A write the CRM refused, for the inbox's Resend button."""
    from journey.models import CrmWrite

    write = CrmWrite(crm="hubspot", object_type="deal", object_id="D-M", account_id=account_id, status="dead",
                     error="PROPERTY_DOESNT_EXIST", created_at=BUILT_AT)
    session.add(write)
    session.flush()
    return write.id


def _override_health(session: Session, account) -> None:  # type: ignore[no-untyped-def]
    """A band set by hand, so that clearing it is an action every persona can be tried on."""
    from datetime import timedelta

    from journey.health import service as health_service
    from journey.kit import utcnow
    from journey.team import repository

    admin = repository.by_email(session, "admin@vendor.example")
    health_service.override_band(session, account=account, member=admin, band="yellow", reason="for the matrix",
                                 expires_on=(utcnow() + timedelta(days=30)).date(), now=utcnow())


def _member_id(session: Session, email: str) -> int:
    from journey.team import repository

    member = repository.by_email(session, email)
    assert member is not None
    return member.id


def _persona(session: Session, name: str, email: str, account_id: int) -> Persona:
    from journey.team import repository
    from journey.team import service as team_service
    from journey.web import service as web_service

    member = repository.by_email(session, email)
    assert member is not None
    token = team_service.create_token(session, email=email, label="matrix")
    web = web_service.open_session(session, member=member, user_agent="matrix", now=BUILT_AT, method="password")
    return Persona(name=name, id=member.id, role=str(member.role), email=email, token=token, session_token=web,
                   reminder_id=_reminder(session, member.id, account_id))


def _reminder(session: Session, member_id: int, account_id: int) -> int:
    from journey.models import Reminder

    reminder = Reminder(kind="matrix", assignee_id=member_id, account_id=account_id, due_at=BUILT_AT,
                        reason="a reminder to close", dedupe_key=f"matrix:{member_id}", created_at=BUILT_AT,
                        details={})
    session.add(reminder)
    session.flush()
    return reminder.id


def _share_link(session: Session, account_id: int) -> int:
    from datetime import timedelta

    from journey.models import ShareLink

    link = ShareLink(account_id=account_id, email="chloe@customer.example", name="Chloé", token_digest="0" * 64,
                     created_by="csm@vendor.example", created_at=BUILT_AT, expires_at=BUILT_AT + timedelta(days=60))
    session.add(link)
    session.flush()
    return link.id


def _things(session: Session, account_id: int) -> dict[str, Any]:
    """The account, a review to book or cancel, a booked one that has started (to close), a task, an objective."""
    from journey.audit import Actor
    from journey.models import Objective, PlanTask, Review
    from journey.reviews import lifecycle

    reviews = list(session.scalars(select(Review).where(Review.account_id == account_id).order_by(Review.due_on)))
    assert len(reviews) >= 2 and all(r.status == "proposed" for r in reviews[:2])
    started = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Paris
    lifecycle.schedule_review(session, review=reviews[1], starts_at=started, duration_minutes=60,
                              actor=Actor.user("admin@vendor.example"), now=BUILT_AT)
    task = session.scalars(select(PlanTask).where(PlanTask.needs_packet_ack.is_(False),
                                                  PlanTask.status == "todo").order_by(PlanTask.id)).first()
    objective = session.scalars(select(Objective.id).where(Objective.account_id == account_id)).first()
    assert task is not None and objective is not None
    from journey.kpis import opportunities

    opportunity = opportunities.raise_opportunity(session, account_id=account_id, title="Analytics add-on",
                                                  source="manual", now=BUILT_AT)
    assert opportunity is not None
    return {"account": account_id, "review": reviews[0].id, "held review": reviews[1].id, "task": task.id,
            "objective": objective, "opportunity": opportunity.id}


def _edit_form(client, world: World) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The packet's edit form as a browser sends it back unchanged (every field, current values)."""
    html = client.get(f"/accounts/{world.ids['account']}/handoff/edit", headers=world.personas["admin"].web()).text
    data = {name: [html_lib.unescape(v) for v in values] for name, values in form_fields(html).items()
            if name != "csrf_token"}
    assert "se_notes" in data and "risks" in data, sorted(data)
    return data


@contextmanager
def rolled_back(url: str) -> Iterator[None]:
    """Every `db.transaction()` inside the block (requests, commands) commits into one outer transaction,
    which is rolled back at the end."""
    from journey import db

    with db.engine_for(url).connect() as conn:
        outer = conn.begin()

        @contextmanager
        def transaction(*, writer: bool = True) -> Iterator[Session]:
            session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
            try:
                yield session
                session.commit()
            except Exception:
                session.rollback()
                raise
            finally:
                session.close()

        try:
            with mock.patch.object(db, "transaction", transaction):
                yield
        finally:
            outer.rollback()


def wipe(url: str) -> None:
    from journey.db import engine_for
    from journey.models import Base

    with engine_for(url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
