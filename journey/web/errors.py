"""Errors on web pages: an HTML page (or a redirect to sign-in) instead of the API's JSON problem."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from journey.deps import read_session
from journey.web.auth import optional_viewer
from journey.web.render import page

NOT_PAGES = ("/api", "/webhooks", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json", "/static")
TITLES = {401: "Please sign in", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 409: "Not possible yet",
          410: "This link no longer works", 422: "Something is not right", 429: "Slow down",
          503: "Try again in a moment"}


def is_page(request: Request) -> bool:
    path = request.url.path
    return not any(path == p or path.startswith(p + "/") for p in NOT_PAGES)


def error_page(request: Request, status: int, code: str, detail: str,
               headers: dict[str, str] | None = None) -> Response:
    if code == "sign_in_required":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    try:
        gen = read_session()
        viewer = optional_viewer(request, next(gen))
        gen.close()
    except Exception:  # noqa: BLE001 - the error page must render even when the database is down
        viewer = None
    title = TITLES.get(status, "Something went wrong")
    return page(request, "error.html", viewer, status=status, headers=headers, title=title, detail=detail,
                code=code, status_code=status)
