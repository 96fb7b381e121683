"""Sign-in (password or one-time email link) and sign-out."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from journey import db, demo
from journey.config import get_settings
from journey.deps import ReadSession
from journey.kit import utcnow
from journey.team import service as team_service
from journey.web import auth
from journey.web import service as web_service
from journey.web.auth import AnonCsrf, FormViewer, MaybeViewer
from journey.web.render import page

router = APIRouter(include_in_schema=False)
NO_BASE_URL = ("Sign-in links by email are off: this server needs JOURNEY_PUBLIC_BASE_URL (the address you open "
               "journey at) to write them. Sign in with your password, or ask your admin.")


def safe_next(target: str | None) -> str:
    """Only a path of this site (no `//evil.example`, no scheme): an open redirect is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _signin_page(request: Request, *, error: str | None = None, email: str = "", status: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
    token, cookie = auth.anon_csrf(request)
    response = page(request, "signin.html", None, status=status, headers=headers, form_csrf=token, error=error,
                    email=email, next=safe_next(request.query_params.get("next")),
                    email_links=get_settings().public_base_url is not None,
                    demo_password=demo.DEMO_PASSWORD if demo.login_visible() else None)
    auth.set_anon_csrf_cookie(response, request, cookie)
    return response


@router.get("/signin")
def signin_form(request: Request, viewer: MaybeViewer) -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _signin_page(request)


@router.post("/signin")
def signin(request: Request, _csrf: AnonCsrf, email: Annotated[str, Form()] = "",
           password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    email = email.strip().lower()[:320]
    ip = auth.client_ip(request)
    key = auth.password_key(ip, email)  # per address and email: a stranger cannot lock the member out
    try:
        auth.refuse_if_limited((auth.FAILED_PASSWORDS, key), (auth.ATTEMPTS_PER_IP, ip))
    except auth.TooManyAttempts as exc:
        return _signin_page(request, error=exc.detail, email=email, status=429, headers=exc.headers)
    auth.FAILED_PASSWORDS.hit(key)  # counted before checking, so parallel guesses cannot slip through
    auth.ATTEMPTS_PER_IP.hit(ip)
    with db.transaction() as session:
        member = team_service.authenticate(session, email=email, password=password) if email and password else None
        if member is None:
            return _signin_page(request, error="That email and password do not match. Try again, or get a "
                                               "sign-in link by email.", email=email, status=401)
        token = web_service.open_session(session, member=member, user_agent=request.headers.get("user-agent"),
                                         now=utcnow(), method="password")
    auth.FAILED_PASSWORDS.reset(key)
    auth.ATTEMPTS_PER_IP.release(ip)  # a right password does not count against the address
    response = RedirectResponse(safe_next(next), status_code=303)
    auth.set_session_cookie(response, request, token)
    return response


@router.post("/signin/link")
def request_link(request: Request, _csrf: AnonCsrf, email: Annotated[str, Form()] = "") -> Response:
    """The link is built from JOURNEY_PUBLIC_BASE_URL, never from the request's Host header (which anyone sets)."""
    email = email.strip().lower()[:320]
    settings = get_settings()
    if settings.public_base_url is None:
        return _signin_page(request, error=NO_BASE_URL, email=email, status=503)
    ip = auth.client_ip(request)
    try:
        auth.refuse_if_limited((auth.LINK_REQUESTS, email), (auth.ATTEMPTS_PER_IP, ip))
    except auth.TooManyAttempts as exc:
        return _signin_page(request, error=exc.detail, email=email, status=429, headers=exc.headers)
    auth.LINK_REQUESTS.hit(email)
    auth.ATTEMPTS_PER_IP.hit(ip)
    if "@" in email:
        with db.transaction() as session:
            web_service.send_signin_link(session, email=email, now=utcnow(), base_url=settings.public_base_url,
                                         log_link=settings.is_development)
    return RedirectResponse("/signin?notice=link_sent", status_code=303)


@router.get("/signin/link/{token}")
def confirm_link(request: Request, token: str, session: ReadSession) -> Response:
    """Shows a button rather than signing in on GET: mail scanners open links and would spend them."""
    member = web_service.member_for_link(session, token=token, now=utcnow())
    form_token, cookie = auth.anon_csrf(request)
    response = page(request, "signin_link.html", None, status=200 if member else 410, member_name=
                    member.name if member else None, form_csrf=form_token, token=token)
    auth.set_anon_csrf_cookie(response, request, cookie)
    return response


@router.post("/signin/link/{token}")
def use_link(request: Request, token: str, _csrf: AnonCsrf) -> Response:
    with db.transaction() as session:
        member = web_service.spend_link(session, token=token, now=utcnow())
        if member is None:
            return RedirectResponse(f"/signin/link/{token}", status_code=303)
        session_token = web_service.open_session(session, member=member, now=utcnow(), method="link",
                                                 user_agent=request.headers.get("user-agent"))
    response = RedirectResponse("/", status_code=303)
    auth.set_session_cookie(response, request, session_token)
    return response


@router.post("/signout")
def signout(request: Request, viewer: FormViewer) -> Response:
    with db.transaction() as session:
        web_service.close_session(session, token=viewer.token)
    response = RedirectResponse("/signin?notice=signed_out", status_code=303)
    auth.clear_session_cookie(response)
    return response
