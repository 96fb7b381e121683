"""`GET /api/journeys`: journeys the member may see, filterable by deal (`crm:<source>:<deal id>`)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from journey.accounts.schemas import CrmRef, Page
from journey.deals import repository
from journey.deps import CurrentMember, ReadSession
from journey.errors import InvalidInput
from journey.kit import decode_cursor, encode_cursor

router = APIRouter(prefix="/api", tags=["journeys"])


class JourneyRead(BaseModel):
    id: int
    account_id: int
    deal: CrmRef
    status: str
    playbook: str
    signed_on: date
    kickoff_on: date | None
    go_live_on: date | None
    started_at: datetime


@router.get("/journeys", response_model=Page[JourneyRead])
def list_journeys(session: ReadSession, member: CurrentMember,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
                  deal: Annotated[str | None, Query(description="crm:<source>:<deal id>")] = None,
                  ) -> Page[JourneyRead]:
    source = external_id = None
    if deal is not None:
        parts = deal.split(":", 2)
        if len(parts) != 3 or parts[0] != "crm" or not parts[1] or not parts[2]:
            raise InvalidInput("deal must look like crm:<source>:<deal id>")
        source, external_id = parts[1], parts[2]
    rows = repository.journeys_page(session, member, after_id=decode_cursor(cursor), limit=limit,
                                    deal_source=source, deal_external_id=external_id)
    items = [JourneyRead(id=j.id, account_id=j.account_id, status=str(j.status), playbook=j.playbook,
                         deal=CrmRef(source=d.crm_source, external_id=d.crm_external_id), signed_on=j.signed_on,
                         kickoff_on=j.kickoff_on, go_live_on=j.go_live_on, started_at=j.started_at)
             for j, d in rows]
    return Page(items=items, next=encode_cursor(rows[-1][0].id) if len(rows) == limit else None)
