"""Mount the web UI on the app: its routers and the static files (one CSS file, one small JS file)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from journey.web import (
    account_pages,
    admin_pages,
    book_pages,
    digest_pages,
    member_pages,
    opportunity_pages,
    packet_pages,
    review_pages,
    signin_pages,
    team_pages,
    worked_pages,
)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def mount_web(app: FastAPI) -> None:
    for module in (signin_pages, book_pages, account_pages, packet_pages, review_pages, team_pages, digest_pages,
                   admin_pages, member_pages, opportunity_pages, worked_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
