"""An account as a member may act on it: found in their book (else 404), then the action checked against
`journey.policy` (else 403). The API, the web pages and the `--as` commands all come through here."""
from __future__ import annotations

from sqlalchemy.orm import Session

from journey import policy
from journey.accounts import repository
from journey.errors import NotFound
from journey.models import Account, Deal, TeamMember
from journey.policy import Action, Resource


def facts(session: Session, account: Account, *, deal: Deal | None = None) -> Resource:
    """What the rules read of the account: its CSM and AM, and the AE and SE of `deal` (else of every deal)."""
    sold = {deal.ae_id, deal.se_id} if deal is not None else repository.sellers(session, account.id)
    return Resource.account(f"account {account.id}", csm_id=account.csm_id, am_id=account.am_id, sellers=sold)


def account_for(session: Session, ref: str, member: TeamMember, action: Action = Action.view_account, *,
                missing: str | None = None) -> Account:
    """The account, if the member sees it (404 otherwise, whether it exists or not) and may take `action`
    on it (403 otherwise)."""
    account = repository.by_ref(session, ref, member)
    if account is None:
        raise NotFound(missing or f"no account {ref}")
    if action is not Action.view_account:
        policy.require(member, action, facts(session, account))
    return account


def require_on(session: Session, account: Account, member: TeamMember, action: Action) -> None:
    """An account already loaded: 404 if the member does not see it, 403 if they may not take `action`."""
    policy.require(member, action, facts(session, account))


def may(session: Session, account: Account, member: TeamMember, *actions: Action) -> frozenset[Action]:
    """Which of `actions` the member may take on the account: the buttons a page shows."""
    return policy.allowed(member, facts(session, account), actions)
