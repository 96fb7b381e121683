"""FastAPI dependencies: a read session, the signed-in member, the inbox's member."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Path
from sqlalchemy.orm import Session

from journey import db
from journey.errors import Unauthorized
from journey.kit import MAX_ROW_ID, utcnow
from journey.models import TeamMember
from journey.policy import Action, require
from journey.team import domain as team_domain
from journey.team import service as team_service

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 to 2^31-1)")]


def read_session() -> Iterator[Session]:
    """A session for reading; endpoints that write open their own `db.transaction()`."""
    with db.transaction(writer=False) as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]


def current_member(session: ReadSession, authorization: Annotated[str | None, Header()] = None) -> TeamMember:
    """The member of a working bearer token (401 `token_expired` / `token_revoked` / `unauthorized` else).

    The token's `last_used_at` is written at most once an hour, in a short transaction of its own."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>' (journey tokens create --email ...)",
                           headers=team_service.BEARER)
    now = utcnow()
    member, row = team_service.authenticate_token(session, token=token.strip(), now=now)
    if team_domain.needs_touch(row.last_used_at, now):
        with db.transaction() as writer:
            team_service.touch_token(writer, token_id=row.id, now=now)
    session.expunge(member)
    return member


CurrentMember = Annotated[TeamMember, Depends(current_member)]


def inbox_member(member: CurrentMember) -> TeamMember:
    require(member, Action.view_inbox)
    return member


InboxMember = Annotated[TeamMember, Depends(inbox_member)]
