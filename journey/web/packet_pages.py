"""The handoff packet: read it (any version, with what changed), edit it (the AE), acknowledge it or send
it back (the CSM and the AM)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from journey import db
from journey.accounts import access
from journey.accounts import read_repository as accounts_read
from journey.accounts.endpoints import visible_account
from journey.deps import ReadSession
from journey.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.handoff import repository as handoff_repository
from journey.handoff import service as handoff_service
from journey.handoff import wording
from journey.kit import MAX_ROW_ID, utcnow
from journey.models import Account, Deal, HandoffPacket, PacketVersion
from journey.objectives import repository as objectives_repository
from journey.policy import Action, allowed, refusal
from journey.team import repository as team_repository
from journey.web import packet_form
from journey.web.auth import FormViewer, PageViewer, Viewer
from journey.web.render import page

router = APIRouter(include_in_schema=False)


def _packet(session: Session, account: Account) -> HandoffPacket:
    packet = handoff_repository.latest_packet_for_account(session, account.id)
    if packet is None:
        raise NotFound(f"{account.name} has no handoff packet yet: it opens when the deal's journey starts")
    return packet


def versions_of(session: Session, packet_id: int) -> list[PacketVersion]:
    return list(reversed(handoff_repository.versions(session, packet_id)))  # newest first


PACKET_ACTIONS = (Action.edit_packet, Action.edit_technical_notes, Action.acknowledge_packet)


def permissions(session: Session, viewer: Viewer, account: Account, deal: Deal | None) -> dict[str, Any]:
    """What the page offers: `may` (the packet actions allowed), and the role an acknowledgement is made in."""
    me = viewer.member
    may = allowed(me, access.facts(session, account, deal=deal), PACKET_ACTIONS) if deal else frozenset()
    ack_role = ("csm" if account.csm_id == me.id else "am" if account.am_id == me.id else None)
    return {"may": may, "ack_role": ack_role if Action.acknowledge_packet in may else None,
            "can_edit": bool(may & {Action.edit_packet, Action.edit_technical_notes})}


@router.get("/accounts/{ref}/handoff")
def packet_page(request: Request, ref: str, viewer: PageViewer, session: ReadSession,
                version: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None) -> Response:
    account = visible_account(session, ref, viewer.member)
    packet = _packet(session, account)
    versions = versions_of(session, packet.id)
    shown = next((v for v in versions if v.version == (version or packet.version)), None)
    if shown is None:
        raise NotFound(f"the packet has no version {version}")
    journey_deal = accounts_read.journeys(session, [account.id]).get(account.id)
    deal = journey_deal[1] if journey_deal else None
    acks = handoff_repository.acknowledgements(session, packet.id)
    owners = {i for i in (account.csm_id, account.am_id) if i}
    people = team_repository.by_ids(session, {a.member_id for a in acks} | owners)
    return page(request, "packet.html", viewer, account=account, packet=packet, shown=shown, versions=versions,
                content=shown.content, acks=acks, people=people, latest=shown.version == packet.version,
                change_lines=wording.sentences(shown.changes, units={
                    o.get("title"): o.get("unit") for o in shown.content.get("objectives") or []}),
                csm=people.get(account.csm_id or 0), am=people.get(account.am_id or 0),
                validations={o.title: o for o in objectives_repository.of_account(session, account.id)
                             if o.validated_by},
                **permissions(session, viewer, account, deal))


@router.get("/accounts/{ref}/handoff/edit")
def edit_page(request: Request, ref: str, viewer: PageViewer, session: ReadSession) -> Response:
    account = visible_account(session, ref, viewer.member)
    packet = _packet(session, account)
    journey_deal = accounts_read.journeys(session, [account.id]).get(account.id)
    if not permissions(session, viewer, account, journey_deal[1] if journey_deal else None)["can_edit"]:
        raise Forbidden(refusal(Action.edit_packet))
    current = handoff_repository.version(session, packet.id, packet.version)
    assert current is not None
    return page(request, "packet_edit.html", viewer, account=account, packet=packet,
                form=packet_form.to_form(current.content), roles=packet_form.STAKEHOLDER_ROLES, error=None)


@router.post("/accounts/{ref}/handoff/edit")
def save_packet(request: Request, ref: str, viewer: FormViewer, fields: packet_form.PacketFields,
                base_version: Annotated[int | None, Form()] = None) -> Response:
    """A new version with the sections the form changed (an SE may only change theirs). Refused, the form
    comes back with what was typed and a sentence saying what to change."""
    try:
        try:
            patch = packet_form.to_patch(fields)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        with db.transaction() as session:
            account = visible_account(session, ref, viewer.member)
            current = handoff_service.current_content(session, _packet(session, account))
            try:
                changed = packet_form.changed_sections(current, patch)
            except ValueError as exc:
                raise InvalidInput(str(exc).splitlines()[0]) from exc
            handoff_service.edit_packet(session, account_id=account.id, member=viewer.member, now=utcnow(),
                                        patch=changed, base_version=base_version)
    except (InvalidInput, Conflict) as exc:
        with db.transaction(writer=False) as session:
            account = visible_account(session, ref, viewer.member)
            packet = _packet(session, account)
        detail = exc.detail.rstrip(".")
        return page(request, "packet_edit.html", viewer, status=422, account=account, packet=packet,
                    form=packet_form.typed_form(fields), roles=packet_form.STAKEHOLDER_ROLES,
                    error=f"Not saved: {detail}. Correct it and save again: what you typed is still here.")
    return RedirectResponse(f"/accounts/{account.id}/handoff?notice=packet_saved", status_code=303)


@router.post("/accounts/{ref}/handoff/acknowledgements")
def acknowledge(ref: str, viewer: FormViewer, decision: Annotated[str, Form()] = "accept",
                comment: Annotated[str, Form(max_length=4000)] = "") -> Response:
    if decision not in ("accept", "return"):
        raise InvalidInput("decision must be accept or return")
    with db.transaction() as session:
        account = visible_account(session, ref, viewer.member)
        handoff_service.acknowledge_packet(session, account_id=account.id, member=viewer.member, decision=decision,
                                           comment=comment.strip() or None, now=utcnow())
    notice = "packet_accepted" if decision == "accept" else "packet_returned"
    return RedirectResponse(f"/accounts/{account.id}/handoff?notice={notice}", status_code=303)
