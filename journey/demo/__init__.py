"""The demo workspace: a team six to nine months in. Its 30 deals (and one loss) go through the real
webhook route, signed; the months behind them (plans, reviews, signals, reminders, KPI snapshots) are
written by `journey.demo.history`. Every date is relative to the clock, so it never goes stale.

Opt-in (`JOURNEY_DEMO=1`, which `make run` sets, or `journey demo`), development only, and only into an empty
database: its password is published.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import typer
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from journey import db
from journey.config import Settings, get_settings
from journey.demo import history, story
from journey.errors import JourneyError
from journey.files import write_private_once
from journey.kit import utcnow
from journey.models import Account, HandoffPacket, TeamMember
from journey.team import repository as team_repository
from journey.team import service as team_service
from journey.webhooks.signatures import sign

DEMO_PASSWORD = "journey-demo-2026"  # noqa: S105 - a published demo login, printed at start
DEMO_ADMIN = "admin@demo.example"
DEMO_TEAM = [
    ("ae@demo.example", "Alice Martin", "ae", "Europe/Paris"),
    ("se@demo.example", "Sam Okafor", "se", "Europe/London"),
    ("csm@demo.example", "Camille Durand", "csm", "Europe/Paris"),
    ("csm.us@demo.example", "Chris Walker", "csm", "America/New_York"),
    ("am@demo.example", "Morgan Lee", "am", "Europe/Paris"),
    ("am.us@demo.example", "Ana Souza", "am", "America/New_York"),
    ("manager@demo.example", "Max Keller", "manager", "Europe/Berlin"),
    ("admin@demo.example", "Ada Admin", "admin", "UTC"),
    ("revops@demo.example", "Rita Olsen", "revops", "Europe/Paris"),
]


def demo_deals() -> list[dict[str, Any]]:
    """The CRM events of the story: each customer's `deal.signed`, then the churned one's `deal.lost`."""
    now = utcnow()
    return [*(story.deal_event(c, now) for c in story.customers()), story.churn_event(now)]


class DemoRefused(JourneyError):
    status_code = 409
    code = "demo_refused"


def is_loaded(session: Session) -> bool:
    """Whether the demo team is in this database (its published password works)."""
    return team_repository.by_email(session, DEMO_ADMIN) is not None


def _is_empty(session: Session) -> bool:
    return not session.scalar(select(exists().where(TeamMember.id.is_not(None)))) and not session.scalar(
        select(exists().where(Account.id.is_not(None))))


def login_visible() -> bool:
    """The sign-in page shows the demo login only in development with JOURNEY_DEMO on, once the demo is loaded."""
    settings = get_settings()
    if not (settings.demo and settings.is_development):
        return False
    with db.transaction(writer=False) as session:
        return is_loaded(session)


def _create_team() -> str:
    """The demo team and an admin API token (printed once), only into an empty database in development.

    A database with any team member or account is real data: a published password never joins it.
    """
    if not get_settings().is_development:
        raise DemoRefused("the demo has a published password: it loads only with JOURNEY_ENVIRONMENT=development")
    with db.transaction() as session:
        if not _is_empty(session):
            raise DemoRefused("the database already has team members or accounts: the demo loads only into an "
                              "empty one")
        hashed = team_service.hash_password(DEMO_PASSWORD)  # one hash for the nine: argon2 is slow on purpose
        for email, name, role, tz in DEMO_TEAM:
            team_service.create_member(session, email=email, name=name, role=role, password_hash=hashed,
                                       timezone=tz)
        return team_service.create_token(session, email=DEMO_ADMIN, label="demo")


def _signed(events: list[dict[str, Any]]) -> list[tuple[bytes, dict[str, str]]]:
    """Each event as a CRM would deliver it: its body and signed headers."""
    secret = get_settings().webhook_secret
    if not secret:
        raise SystemExit("the demo needs JOURNEY_WEBHOOK_SECRET (journey serve generates one)")
    out = []
    for event in events:
        body = json.dumps(event, ensure_ascii=False).encode()
        msg_id, ts = f"msg_demo_{uuid.uuid4().hex}", int(time.time())
        out.append((body, {"webhook-id": msg_id, "webhook-timestamp": str(ts), "content-type": "application/json",
                           "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=ts, body=body)}))
    return out


def _send_deals(post: Callable[[bytes, dict[str, str]], int], events: list[dict[str, Any]]) -> list[int]:
    return [post(body, headers) for body, headers in _signed(events)]


async def _post_in_process(app: Any, requests: list[tuple[bytes, dict[str, str]]],
                           sent: Callable[[], None]) -> list[int]:
    """Post to the app through httpx's ASGI transport: the real route, no server, no test client."""
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://demo") as client:
        codes = []
        for body, headers in requests:
            codes.append((await client.post("/webhooks/events", content=body, headers=headers)).status_code)
            sent()
        return codes


def _history() -> dict[str, int]:
    with db.transaction() as session:
        return history.build(session, people=story.customers(), now=utcnow())


def _written(counts: dict[str, int]) -> str:
    """'520 tasks, 25 packets, ... written'."""
    return ", ".join(f"{n} {what}" for what, n in counts.items()) + " written"


def _announce(base: str, token: str) -> None:
    typer.echo(f"\ndemo workspace loaded: sign in at {base} as csm@demo.example / {DEMO_PASSWORD}\n"
               f"  (also ae@, am@, manager@, admin@, revops@demo.example, same password)\n"
               f"  API: curl -H 'Authorization: Bearer {token}' {base}/api/accounts\n")


def _journeys_opened(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(HandoffPacket)) or 0


def load_demo_when_ready(base: str) -> None:
    """From `journey serve`: wait for the server, post the demo deals to it like a CRM would, wait for the
    flows to open every journey, then write the months behind them."""
    import httpx

    for _ in range(200):
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    with db.transaction(writer=False) as session:
        loaded = is_loaded(session)
    if loaded:
        typer.echo(f"demo workspace already loaded: sign in at {base} as csm@demo.example / {DEMO_PASSWORD}")
        return
    try:
        token = _create_team()
    except DemoRefused as exc:
        typer.secho(f"demo: not loaded: {exc.detail}", fg="yellow", err=True)
        return
    events = demo_deals()
    post = lambda body, headers: httpx.post(base + "/webhooks/events", content=body,  # noqa: E731
                                            headers=headers, timeout=30).status_code
    _send_deals(post, [e for e in events if e["type"] == "deal.signed"])
    signed = sum(e["type"] == "deal.signed" for e in events)
    for _ in range(1200):  # the journeys open in the background; the loss and the history need them
        with db.transaction(writer=False) as session:
            if _journeys_opened(session) >= signed:
                break
        time.sleep(0.25)
    _send_deals(post, [e for e in events if e["type"] != "deal.signed"])
    time.sleep(1)  # the loss pauses its journey; the history does not depend on it
    typer.echo(f"demo: {_written(_history())}")
    _announce(base, token)


def ensure_webhook_secret(settings: Settings) -> None:
    """The demo needs a signing secret: generate one into the data folder if none is configured."""
    if settings.webhook_secret:
        return
    path = settings.data_dir / "webhook_secret"
    secret = write_private_once(path, "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ["JOURNEY_WEBHOOK_SECRET"] = secret
    get_settings.cache_clear()
    typer.echo(f"webhook secret: generated into {path} (set JOURNEY_WEBHOOK_SECRET to use your own)")


def _run_to_end(work: Coroutine[Any, Any, list[int]]) -> list[int]:
    """asyncio.run, also from a thread whose event loop already runs (a test, a notebook): then on a thread
    of its own, since a loop cannot be started inside another."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def load_demo_inline(*, create_app: Callable[..., Any], drain: Callable[..., list[tuple[int, str, str]]]) -> None:
    """`journey demo`: post through the app (`create_app`) in-process, run the flows until the inbox is drained
    (`drain`: the runner's, which the command hands over), then write the months behind the deals. A progress
    line per step, then what was written."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.perf_counter()
    token = _create_team()  # refused outside development or into a database with data, before anything is written
    ensure_webhook_secret(get_settings())
    events = demo_deals()
    columns = (TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as progress:
        sending = progress.add_task("posting the CRM's deal events", total=len(events))
        codes = _run_to_end(_post_in_process(create_app(start_runner=False), _signed(events),
                                             lambda: progress.advance(sending)))
        running = progress.add_task("running their flows", total=len(events))
        outcomes = Counter(str(outcome) for _, _, outcome in drain(on_done=lambda *_: progress.advance(running)))
        writing = progress.add_task("writing nine months of history", total=1)
        written = _history()
        progress.advance(writing)
    typer.echo(f"demo events: {len(codes)} sent ({', '.join(f'{n} {o}' for o, n in sorted(outcomes.items()))})")
    typer.echo(f"demo: {_written(written)} in {time.perf_counter() - started:.1f} s")
    _announce("http://127.0.0.1:8000", token)
