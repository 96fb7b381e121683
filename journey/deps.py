"""FastAPI dependencies: a read session, the signed-in member, the inbox's member."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Path
from sqlalchemy.orm import Session

from journey import db
from journey.errors import Unauthorized
from journey.kit import MAX_ROW_ID
from journey.models import TeamMember
from journey.policy import Action, require
from journey.team import service as team_service

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a row id (1 to 2^31-1)")]


def read_session() -> Iterator[Session]:
    """A session for reading; endpoints that write open their own `db.transaction()`."""
    with db.transaction(writer=False) as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]


def current_member(session: ReadSession, authorization: Annotated[str | None, Header()] = None) -> TeamMember:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>' (journey tokens create --email ...)",
                           headers={"WWW-Authenticate": "Bearer"})
    member = team_service.member_for_token(session, token.strip())
    if member is None:
        raise Unauthorized("unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    session.expunge(member)
    return member


CurrentMember = Annotated[TeamMember, Depends(current_member)]


def inbox_member(member: CurrentMember) -> TeamMember:
    require(member, Action.view_inbox)
    return member


InboxMember = Annotated[TeamMember, Depends(inbox_member)]
