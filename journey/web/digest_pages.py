"""/digest: the weekly digest, readable in the app (so it works without SMTP). A manager (or an admin)
sees the team's; anyone else their own book's. The same data as the Monday e-mail (journey.digests)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from journey.deps import ReadSession
from journey.digests import service
from journey.kit import utcnow
from journey.web.auth import PageViewer
from journey.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/digest")
def digest(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    now = utcnow()
    if viewer.sees_everything:
        return page(request, "digest.html", viewer, team=service.team_digest(session, now=now), mine=None)
    return page(request, "digest.html", viewer, team=None, mine=service.member_digest(session, member=viewer.member,
                                                                                        now=now))
