"""`POST /api/signals` and `GET /api/accounts/{id}/health`."""
from __future__ import annotations

from fastapi import APIRouter

from journey import db
from journey.accounts.endpoints import visible_account
from journey.audit import Actor
from journey.deps import CurrentMember, ReadSession
from journey.health import service
from journey.health.schemas import HealthRead, SignalBatch, SignalsAccepted
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
