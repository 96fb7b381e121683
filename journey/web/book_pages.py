"""My book (the accounts a member looks after, with what needs attention) and the reminders inbox."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from journey import db
from journey.accounts import read_repository as accounts_read
from journey.deps import ReadSession, RowId
from journey.kit import utcnow
from journey.notify import read_repository as reminders_read
from journey.team import repository as team_repository
from journey.web import health_view
from journey.web import service as web_service
from journey.web.auth import FormViewer, PageViewer
from journey.web.render import Clock, page
from journey.web.signin_pages import safe_next

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/")
def book(request: Request, viewer: PageViewer, session: ReadSession, q: Annotated[str, Query(max_length=200)] = "",
         segment: Annotated[str, Query(max_length=64)] = "", attention: str = "", owner: str = "",
         health: Annotated[str, Query(max_length=32)] = "",
         page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1) -> Response:
    today = Clock(viewer.tz).today
    f = accounts_read.BookFilter(q=q.strip(), segment=segment,
                                 attention=attention if attention in accounts_read.ATTENTION else "",
                                 owner=owner if owner == "mine" else "",
                                 health=health if health in health_view.FILTER_BANDS else "")
    accounts, total = accounts_read.book_page(session, viewer.member, f, today, offset=(page_no - 1) * PAGE_SIZE,
                                              limit=PAGE_SIZE)
    ids = [a.id for a in accounts]
    people = team_repository.names(session, {i for a in accounts for i in (a.csm_id, a.am_id) if i})
    rows = [{"account": a, "csm": people.get(a.csm_id or 0), "am": people.get(a.am_id or 0)} for a in accounts]
    extras = {"tasks": accounts_read.task_counts(session, ids, today),
              "reviews": accounts_read.next_reviews(session, ids, today),
              "reminders": accounts_read.open_reminder_counts(session, ids),
              "packets": accounts_read.packet_states(session, ids), "health": health_view.scores(session, ids)}
    given = {"q": f.q, "segment": f.segment, "attention": f.attention, "owner": f.owner, "health": f.health}
    params = {k: v for k, v in given.items() if v}
    pages = {"first": (page_no - 1) * PAGE_SIZE + 1, "last": (page_no - 1) * PAGE_SIZE + len(accounts),
             "prev": urlencode({**params, "page": page_no - 1}) if page_no > 1 else None,
             "next": urlencode({**params, "page": page_no + 1}) if page_no * PAGE_SIZE < total else None}
    return page(request, "book.html", viewer, rows=rows, extras=extras, total=total, f=f, pages=pages,
                filtered=bool(params), segments=accounts_read.segments(session, viewer.member),
                attention_choices=accounts_read.ATTENTION, health_choices=health_view.FILTER_BANDS,
                summary=accounts_read.book_summary(session, viewer.member, today),
                to_complete=accounts_read.packets_to_complete(session, viewer.member))


@router.get("/reminders")
def reminders(request: Request, viewer: PageViewer, session: ReadSession, show: str = "open") -> Response:
    status = show if show in ("open", "done", "dismissed") else "open"
    rows = reminders_read.reminders_for(session, viewer.member, status=status)
    return page(request, "reminders.html", viewer, rows=rows, show=status)


@router.post("/reminders/{reminder_id}")
def close_reminder(reminder_id: RowId, viewer: FormViewer, action: Annotated[str, Form()] = "done",
                   back: Annotated[str, Form()] = "/reminders") -> Response:
    """Mark one of the viewer's own reminders done or dismissed (someone else's is 404)."""
    status = "dismissed" if action == "dismiss" else "done"
    with db.transaction() as session:
        web_service.close_reminder(session, reminder_id=reminder_id, member=viewer.member, status=status,
                                   now=utcnow())

    target = safe_next(back)
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}notice=reminder_{status}", status_code=303)
