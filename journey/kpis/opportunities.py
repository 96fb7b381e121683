"""Use cases of expansion opportunities: raised at a review or by an expansion rule (once per account and
title while it is open), added by hand, and moved by the AM through open → proposed → won / lost."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from journey import audit
from journey.audit import Actor
from journey.errors import InvalidInput, NotFound
from journey.kpis import repository
from journey.kpis.domain import OPEN_STAGES, STAGES
from journey.models import Opportunity


def raise_opportunity(session: Session, *, account_id: int, title: str, source: str, now: datetime,
                      amount: Decimal | None = None, stage: str = "open", review_id: int | None = None,
                      actor: Actor | None = None) -> Opportunity | None:
    """A new opportunity; None when one with this title is already open on the account (rules fire again)."""
    title = " ".join(title.split())[:300]
    if not title:
        raise InvalidInput("an opportunity needs a title: say what the customer could buy")
    _check(amount, stage)
    if any(o.title == title and o.stage in OPEN_STAGES for o in repository.opportunities_of(session, account_id)):
        return None
    row = Opportunity(account_id=account_id, title=title, amount=amount, stage=stage, source=source,
                      review_id=review_id, created_at=now, updated_at=now,
                      closed_at=now if stage not in OPEN_STAGES else None)
    session.add(row)
    session.flush()
    if actor is not None:
        audit.record(session, actor=actor, action="opportunity.raised", account_id=account_id,
                     subject=f"opportunity {row.id}", title=title, source=source)
    return row


def raise_rule_opportunities(session: Session, *, wanted: Sequence[tuple[int, str]], now: datetime) -> int:
    """`raise_opportunity` for a batch of (account id, title) an expansion rule fired for: one read of the
    open ones, one multi-row insert of the others; how many were new. Not audited (rules are not people)."""
    titles = {(a, " ".join(t.split())[:300]) for a, t in wanted if t.strip()}
    if not titles:
        return 0
    held = repository.open_opportunity_titles(session, sorted({a for a, _ in titles}), sorted(OPEN_STAGES))
    rows = [{"account_id": a, "title": t, "amount": None, "stage": "open", "source": "rule", "review_id": None,
             "created_at": now, "updated_at": now, "closed_at": None} for a, t in sorted(titles - held)]
    repository.insert_opportunities(session, rows)
    return len(rows)


def update_opportunity(session: Session, *, opportunity: Opportunity, amount: Decimal | None = None,
                       stage: str | None = None, title: str | None = None, actor: Actor,
                       now: datetime) -> Opportunity:
    """Set the amount, the stage or the title; winning or losing it stamps when (re-opening clears it)."""
    _check(amount, stage)
    before = {"amount": _money(opportunity.amount), "stage": opportunity.stage}
    if amount is not None:
        opportunity.amount = amount
    if title is not None and title.strip():
        opportunity.title = " ".join(title.split())[:300]
    if stage is not None and stage != opportunity.stage:
        opportunity.stage = stage
        opportunity.closed_at = None if stage in OPEN_STAGES else now
    opportunity.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="opportunity.updated", account_id=opportunity.account_id,
                 subject=f"opportunity {opportunity.id}", before=before,
                 after={"amount": _money(opportunity.amount), "stage": opportunity.stage})
    return opportunity


def opportunity_of_account(session: Session, opportunity_id: int, account_id: int) -> Opportunity:
    row = repository.opportunity(session, opportunity_id)
    if row is None or row.account_id != account_id:
        raise NotFound(f"no opportunity {opportunity_id} on this account")
    return row


def _check(amount: Decimal | None, stage: str | None) -> None:
    if amount is not None and (amount < 0 or amount >= Decimal("1e15")):
        raise InvalidInput("the amount must be zero or more, in the contract's currency (e.g. 12000)")
    if stage is not None and stage not in STAGES:
        raise InvalidInput(f"the stage must be one of {', '.join(STAGES)}, not {stage!r}")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"
