"""What the account commands share: acting as a named member, finding the account in their book, and
turning a refusal into one clear line on stderr (exit code 1). Heavy imports stay inside functions."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from journey.models import Account, TeamMember
    from journey.policy import Action

AS_OPTION = typer.Option(..., "--as", help="act as this team member (their book and their rights)")
ACCOUNT_ARG = typer.Argument(..., metavar="ACCOUNT", help="our account id, or crm:<source>:<id>")


@contextmanager
def refusals() -> Iterator[None]:
    """A JourneyError (not found, forbidden, conflict, invalid) becomes `error: ...` and exit code 1."""
    from journey.errors import JourneyError

    try:
        yield
    except JourneyError as exc:
        typer.secho(f"error: {exc.detail}", fg="red", err=True)
        raise typer.Exit(1) from exc


def acting_member(session: Session, email: str) -> TeamMember:
    from journey.errors import NotFound
    from journey.team import repository

    member = repository.by_email(session, email.strip())
    if member is None or not member.active:
        raise NotFound(f"no active team member with email {email.strip().lower()}")
    return member


def account_in_book(session: Session, ref: str, member: TeamMember, action: Action | None = None) -> Account:
    """The account, if the member may see it and take `action` on it: the same rules (`journey.policy`),
    and the same refusals, as the API."""
    from journey.accounts.access import account_for
    from journey.policy import Action

    return account_for(session, ref.strip(), member, action or Action.view_account,
                       missing=f"no account {ref} in the book of {member.email}")
