"""`POST /api/signals`, `GET /api/accounts/{id}/health` and the override of its band (`PUT` / `DELETE
/api/accounts/{id}/health/override`)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from journey import db
from journey.accounts.endpoints import visible_account
from journey.audit import Actor
from journey.config import get_settings
from journey.deps import CurrentMember, ReadSession
from journey.evaluation import service as evaluation_service
from journey.health import scores, service
from journey.health.schemas import HealthRead, OverrideIn, OverrideRead, SignalBatch, SignalsAccepted
from journey.kit import utcnow

router = APIRouter(prefix="/api", tags=["health"])


@router.post("/signals", response_model=SignalsAccepted,
             responses={202: {"model": SignalsAccepted, "description": "stored; the accounts are evaluated within "
                                                                       "seconds (see `queued`)"}})
def post_signals(batch: SignalBatch, member: CurrentMember, request: Request, response: Response) -> SignalsAccepted:
    """Store a batch of signals (a repeated id is ignored), rescore the accounts they touch and evaluate
    their risk alerts and expansion rules.

    A batch touching up to JOURNEY_EVALUATE_INLINE_MAX_ACCOUNTS accounts (20) is evaluated before the
    answer (200, `recomputed`); a larger one is queued and evaluated within seconds, once per account
    however many batches touch it (202, `queued`). Atomic: an account that does not exist, or is outside
    your book, fails the whole batch (422)."""
    items = [service.SignalIn(id=i.id, account=i.account, metric=i.metric, value=i.value, at=i.at)
             for i in batch.items]
    now, actor = utcnow(), Actor.user(member.email)
    with db.transaction() as session:
        result = service.record_signals(session, items=items, source="api", now=now, actor=actor, member=member,
                                        rescore=False)
        touched = result.pop("account_ids")
        if result["accepted"] and len(touched) <= get_settings().evaluate_inline_max_accounts:
            result["recomputed"] = evaluation_service.evaluate_marked(session, account_ids=touched, now=now,
                                                                      actor=actor).accounts
        elif result["accepted"]:
            result["queued"] = len(touched)
    if result.get("queued"):
        response.status_code = 202
        evaluate_soon = getattr(request.app.state, "evaluate_soon", None)  # set by the app's start
        if evaluate_soon is not None:
            evaluate_soon()  # the scheduler evaluates them once the burst settles, not at its next poll
    return SignalsAccepted(**result)


@router.get("/accounts/{ref}/health", response_model=HealthRead)
def get_health(ref: str, session: ReadSession, member: CurrentMember) -> HealthRead:
    """The score, its band and scorecard version, each factor's points, what is missing, 90 days of history
    and the 7- and 30-day trends."""
    account = visible_account(session, ref, member)
    return HealthRead.of(scores.account_health(session, account_id=account.id, now=utcnow()))


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
