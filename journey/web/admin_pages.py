"""The admin inbox: every webhook delivery, duplicates, dead letters with their error, and replay."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from journey import db
from journey.deps import ReadSession, RowId
from journey.inbox import read_repository as inbox_read
from journey.inbox import repository as inbox_repository
from journey.inbox import service as inbox_service
from journey.kit import decode_cursor, encode_cursor, utcnow
from journey.policy import Action, can, require
from journey.web.auth import FormViewer, PageViewer, Viewer
from journey.web.render import page
from journey.writeback import repository as writeback_repository
from journey.writeback import service as writeback_service

router = APIRouter(include_in_schema=False)
TABS = {"all": "All deliveries", "dead": "Dead letters", "pending": "Waiting", "duplicates": "Duplicates",
        "processed": "Processed", "ignored": "Ignored"}
PAGE_SIZE = 50


def inbox_viewer(viewer: PageViewer) -> Viewer:
    require(viewer.member, Action.view_inbox)
    return viewer


InboxViewer = Annotated[Viewer, Depends(inbox_viewer)]


@router.get("/admin/inbox")
def inbox(request: Request, viewer: InboxViewer, session: ReadSession, tab: str = "all",
          cursor: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    tab = tab if tab in TABS else "all"
    rows = inbox_read.events_page(session, tab, before_id=decode_cursor(cursor), limit=PAGE_SIZE)
    counts = inbox_repository.counts_by_status(session)
    counts["duplicates"] = inbox_read.duplicate_count(session)
    counts["all"] = sum(v for k, v in counts.items() if k in ("pending", "processed", "ignored", "dead"))
    return page(request, "inbox.html", viewer, rows=rows, tab=tab, tabs=TABS, counts=counts,
                can_replay=can(viewer.member, Action.replay_event),
                next=encode_cursor(rows[-1].id) if len(rows) == PAGE_SIZE else None,
                crm_summary=writeback_repository.summary(session),
                crm_dead=writeback_repository.rows(session, status="dead", limit=PAGE_SIZE))


@router.post("/admin/inbox/{event_id}/replay")
def replay(request: Request, event_id: RowId, viewer: FormViewer) -> Response:
    require(viewer.member, Action.replay_event)
    with db.transaction() as session:
        inbox_service.replay_event(session, event_id=event_id, now=utcnow())
    request.app.state.dispatcher.notify(event_id)
    return RedirectResponse("/admin/inbox?tab=pending&notice=replayed", status_code=303)


@router.post("/admin/crm-writes/{write_id}/resend")
def resend_crm_write(write_id: RowId, viewer: FormViewer) -> Response:
    """A dead CRM write back in the queue (after its cause was fixed); the drainer sends it within 15 s."""
    require(viewer.member, Action.replay_event)  # like replaying an event: sending again what failed
    with db.transaction() as session:
        writeback_service.resend(session, write_id=write_id, now=utcnow())
    return RedirectResponse("/admin/inbox?notice=crm_resent#crm-writes", status_code=303)
