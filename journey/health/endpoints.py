"""`POST /api/signals`, `GET /api/accounts/{id}/health` and the override of its band (`PUT` / `DELETE
/api/accounts/{id}/health/override`)."""
from __future__ import annotations

from fastapi import APIRouter, Response

from journey import db
from journey.accounts.endpoints import visible_account
from journey.audit import Actor
from journey.deps import CurrentMember, ReadSession
from journey.health import service
from journey.health.schemas import HealthRead, OverrideIn, OverrideRead, SignalBatch, SignalsAccepted
from journey.kit import utcnow

router = APIRouter(prefix="/api", tags=["health"])


@router.post("/signals", response_model=SignalsAccepted)
def post_signals(batch: SignalBatch, member: CurrentMember) -> SignalsAccepted:
    """Store a batch of signals (a repeated id is ignored) and rescore the accounts they touch.

    Atomic: an account that does not exist, or is outside your book, fails the whole batch (422)."""
    items = [service.SignalIn(id=i.id, account=i.account, metric=i.metric, value=i.value, at=i.at)
             for i in batch.items]
    with db.transaction() as session:
        result = service.record_signals(session, items=items, source="api", now=utcnow(),
                                        actor=Actor.user(member.email), member=member)
    return SignalsAccepted(**result)


@router.get("/accounts/{ref}/health", response_model=HealthRead)
def get_health(ref: str, session: ReadSession, member: CurrentMember) -> HealthRead:
    """The score, its band and scorecard version, each factor's points, what is missing, 90 days of history
    and the 7- and 30-day trends."""
    account = visible_account(session, ref, member)
    return HealthRead.of(service.account_health(session, account_id=account.id, now=utcnow()))


@router.put("/accounts/{ref}/health/override", response_model=OverrideRead)
def put_override(ref: str, body: OverrideIn, member: CurrentMember) -> OverrideRead:
    """Set the account's band by hand, with a reason, until `expires_on` (default in 30 days): it is the band
    reminders, alerts and KPIs read until it lapses. The account's CSM, a manager or an admin (else 403)."""
    now = utcnow()
    with db.transaction() as session:
        account = visible_account(session, ref, member)
        held = service.override_band(session, account=account, member=member, band=body.band, reason=body.reason,
                                     expires_on=body.expires_on, now=now)
    return OverrideRead(band=held.band, reason=held.reason, set_by=held.set_by, set_at=held.set_at,
                        expires_on=held.expires_on)


@router.delete("/accounts/{ref}/health/override", status_code=204)
def delete_override(ref: str, member: CurrentMember) -> Response:
    """Clear the override: the computed band is in force again (404 when there is none)."""
    with db.transaction() as session:
        account = visible_account(session, ref, member)
        service.clear_band_override(session, account=account, member=member, now=utcnow())
    return Response(status_code=204)
