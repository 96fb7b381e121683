"""The account page's expansion opportunities: the AM adds one, or sets its amount and stage."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from journey import db
from journey.accounts import access
from journey.audit import Actor
from journey.deps import RowId
from journey.errors import Conflict, InvalidInput
from journey.kit import utcnow
from journey.kpis import opportunities
from journey.policy import Action
from journey.web.account_pages import account_context
from journey.web.auth import FormViewer, Viewer
from journey.web.render import page

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=300)]


def parse_amount(text: str) -> Decimal | None:
    """'12 000', '12,000.50' or '' (no amount yet); else a sentence saying what to type."""
    cleaned = text.replace(" ", "").replace("\u202f", "").replace(",", "")
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
        if not amount.is_finite():
            raise InvalidOperation
        return amount
    except InvalidOperation:
        raise InvalidInput(f"the amount {text!r} is not a number: type it in the contract's currency, "
                           "e.g. 12000 or 12,000.50") from None


def _again(request: Request, ref: str, viewer: Viewer, typed: dict[str, Any], error: str) -> Response:
    """The account page again, its opportunity form holding what was typed and a sentence saying what to change."""
    with db.transaction(writer=False) as session:
        account = access.account_for(session, ref, viewer.member, Action.view_account)
        context = account_context(session, account, viewer)
    return page(request, "account.html", viewer, status=422, **context,
                opportunity_form={**typed, "error": error[:1].upper() + error[1:].rstrip(".") + "."})


@router.post("/accounts/{ref}/opportunities")
def add(request: Request, ref: str, viewer: FormViewer, title: Text, amount: Text = "", stage: Text = "open"
        ) -> Response:
    now = utcnow()
    try:
        with db.transaction() as session:
            account = access.account_for(session, ref, viewer.member, Action.edit_opportunity)
            row = opportunities.raise_opportunity(session, account_id=account.id, title=title, source="manual",
                                                  amount=parse_amount(amount), stage=stage, now=now,
                                                  actor=Actor.user(viewer.member.email))
            if row is None:
                raise Conflict(f"an open opportunity called {title.strip()!r} is already on this account: give this "
                               "one another name, or change the amount of that one")
    except (InvalidInput, Conflict) as exc:
        return _again(request, ref, viewer, {"id": None, "title": title, "amount": amount, "stage": stage},
                      exc.detail)
    return RedirectResponse(f"/accounts/{account.id}?notice=opportunity_saved#opportunities", status_code=303)


@router.post("/accounts/{ref}/opportunities/{opportunity_id}")
def update(request: Request, ref: str, opportunity_id: RowId, viewer: FormViewer, amount: Text = "",
           stage: Text = "") -> Response:
    now = utcnow()
    try:
        with db.transaction() as session:
            account = access.account_for(session, ref, viewer.member, Action.edit_opportunity)
            row = opportunities.opportunity_of_account(session, opportunity_id, account.id)
            opportunities.update_opportunity(session, opportunity=row, amount=parse_amount(amount),
                                             stage=stage or None, actor=Actor.user(viewer.member.email), now=now)
    except InvalidInput as exc:
        return _again(request, ref, viewer, {"id": opportunity_id, "amount": amount, "stage": stage}, exc.detail)
    return RedirectResponse(f"/accounts/{account.id}?notice=opportunity_saved#opportunities", status_code=303)
