"""The outbox against real local servers: SMTP (aiosmtpd) and a Slack-like HTTP endpoint.

Each message is sent once: a failing endpoint delays it (backoff), never loses or doubles it."""
from __future__ import annotations

import asyncio
import dataclasses
import email
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from journey import db
from journey.models import OutboxMessage, Role, TeamMember
from journey.notify.outbox import drain_outbox
from journey.notify.senders import SlackSender, SmtpConfig, SmtpSender
from journey.notify.service import Message, remind, resend_message

pytestmark = pytest.mark.usefixtures("db_url")
NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self) -> None:
            self.received: list[tuple[list[str], bytes]] = []
            self.answer_after = 0.0  # seconds between taking the message and saying 250

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.received.append((list(envelope.rcpt_tos), envelope.content))
            await asyncio.sleep(self.answer_after)
            return "250 OK"

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, sink
    controller.stop()


class SlackStub:
    """A local HTTP endpoint answering `failures` requests with 500 (or `status`), then 200 `ok`; it takes
    `delay` seconds to answer, and the first `slow` accepted messages take `slow_delay` (after accepting)."""

    def __init__(self, failures: int = 0, status: int = 500, delay: float = 0.0, slow: int = 0,
                 slow_delay: float = 0.0) -> None:
        self.failures, self.status, self.accepted, self.attempts = failures, status, [], 0
        self.delay, self.slow, self.slow_delay = delay, slow, slow_delay
        lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(stub.delay)
                with lock:
                    stub.attempts += 1
                    failing = stub.failures > 0
                    stub.failures -= failing
                    if not failing:
                        stub.accepted.append(json.loads(body))
                        slow, stub.slow = stub.slow > 0, stub.slow - (stub.slow > 0)
                if failing:
                    self.send_response(stub.status)
                    self.end_headers()
                    self.wfile.write(b"oops")
                    return
                if slow:
                    time.sleep(stub.slow_delay)  # accepted, but the answer comes after the client gave up
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/x"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def outcome(**counts: int) -> dict[str, int]:
    return {"sent": 0, "retry": 0, "dead": 0, "unconfirmed": 0, "skipped": 0, "lost": 0, **counts}


def queue(channels: tuple[str, ...], key: str = "r-1", attachments: list | None = None) -> None:
    with db.transaction() as session:
        am = session.scalars(select(TeamMember).where(TeamMember.email == "am@x.example")).one_or_none()
        if am is None:
            am = TeamMember(email="am@x.example", name="Morgan <AM>", role=Role.am)
            session.add(am)
            session.flush()
        message = Message(subject="Expansion: Acme", body_text="Acme: 96 of 100 seats in use.",
                          body_html="<p>Acme: 96 of 100 seats in use &amp; growing</p>", attachments=attachments or [])
        remind(session, kind="expansion.seat_utilisation", assignee=am, account_id=None, due_at=NOW,
               reason="Acme: 96 of 100 seats in use.", dedupe_key=key, now=NOW, message=message, channels=channels)


def statuses() -> list[tuple[str, str, int]]:
    with db.transaction(writer=False) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.channel, m.status, m.attempts) for m in rows]


def test_email_reaches_a_real_smtp_server_with_html_and_the_ics(smtp_server) -> None:
    controller, sink = smtp_server
    queue(("email",), attachments=[{"filename": "review-7.ics", "content_type": "text/calendar; method=REQUEST",
                                    "content": ICS}])
    sender = SmtpSender(SmtpConfig.from_url(f"smtp://127.0.0.1:{controller.port}?from=journey@vendor.example",
                                            default_sender="x@y"))
    assert drain_outbox(NOW, senders={"email": sender}) == outcome(sent=1)
    assert drain_outbox(NOW + timedelta(hours=1), senders={"email": sender})["sent"] == 0
    [(rcpt, raw)] = sink.received
    assert rcpt == ["am@x.example"]
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "Expansion: Acme" and mail["From"] == "journey@vendor.example"
    assert mail.get_body(("plain",)).get_content().strip() == "Acme: 96 of 100 seats in use."
    assert "&amp; growing" in mail.get_body(("html",)).get_content()
    [ics] = list(mail.iter_attachments())
    assert ics.get_filename() == "review-7.ics" and ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "REQUEST" and "BEGIN:VCALENDAR" in ics.get_content()
    assert statuses() == [("email", "sent", 1)]


def test_smtp_that_takes_the_message_then_times_out_is_unconfirmed_not_resent(smtp_server) -> None:
    controller, sink = smtp_server
    sink.answer_after = 1.5
    queue(("email",))
    config = SmtpConfig.from_url(f"smtp://127.0.0.1:{controller.port}", default_sender="j@x")
    sender = SmtpSender(dataclasses.replace(config, timeout=0.5))
    assert drain_outbox(NOW, senders={"email": sender}) == outcome(unconfirmed=1)
    assert drain_outbox(NOW + timedelta(hours=2), senders={"email": sender}) == outcome()
    assert len(sink.received) == 1 and statuses() == [("email", "unconfirmed", 1)]


def test_smtp_down_is_retried_later_not_lost() -> None:
    queue(("email",))
    down = SmtpSender(SmtpConfig.from_url(f"smtp://127.0.0.1:{free_port()}", default_sender="j@x"))
    assert drain_outbox(NOW, senders={"email": down})["retry"] == 1
    assert statuses() == [("email", "pending", 1)]


def test_failing_slack_endpoint_neither_loses_nor_doubles_a_message() -> None:
    stub = SlackStub(failures=2)
    try:
        queue(("slack",))
        slack = SlackSender(stub.url)
        now = NOW
        outcomes = []
        for _ in range(6):  # the scheduler ticking every few minutes, and a second drainer on the same tick
            outcomes.append(drain_outbox(now, senders={"slack": slack}))
            outcomes.append(drain_outbox(now, senders={"slack": slack}))
            now += timedelta(minutes=3)
        assert [o["retry"] for o in outcomes if o["retry"]] == [1, 1]  # backoff: 1 then 2 minutes
        assert sum(o["sent"] for o in outcomes) == 1
        assert stub.attempts == 3 and len(stub.accepted) == 1
        assert stub.accepted[0]["text"].startswith("*Expansion: Acme* (for am@x.example)")
        assert statuses() == [("slack", "sent", 3)]
    finally:
        stub.close()


def test_a_revoked_slack_webhook_is_a_dead_letter_and_a_missing_channel_is_skipped() -> None:
    stub = SlackStub(failures=1, status=404)
    try:
        queue(("slack", "email"))
        result = drain_outbox(NOW, senders={"slack": SlackSender(stub.url)})
        assert result == outcome(dead=1, skipped=1)
        assert statuses() == [("slack", "dead", 1), ("email", "skipped", 1)]
        assert drain_outbox(NOW + timedelta(days=1), senders={"slack": SlackSender(stub.url)})["sent"] == 0
    finally:
        stub.close()


def test_gives_up_after_the_configured_attempts() -> None:
    stub = SlackStub(failures=100)
    try:
        queue(("slack",))
        now = NOW
        for _ in range(4):
            drain_outbox(now, senders={"slack": SlackSender(stub.url)}, max_attempts=3)
            now += timedelta(hours=1)
        assert statuses() == [("slack", "dead", 3)]
        assert stub.attempts == 3
    finally:
        stub.close()


def test_slack_that_accepts_then_times_out_is_unconfirmed_not_resent() -> None:
    stub = SlackStub(slow=1, slow_delay=1.5)
    try:
        queue(("slack",))
        slack = SlackSender(stub.url, timeout=0.3)
        assert drain_outbox(NOW, senders={"slack": slack}) == outcome(unconfirmed=1)
        for hours in (1, 7, 30):  # later ticks, long past any backoff or lease
            assert drain_outbox(NOW + timedelta(hours=hours), senders={"slack": slack}) == outcome()
        assert len(stub.accepted) == 1 and stub.attempts == 1
        assert statuses() == [("slack", "unconfirmed", 1)]
        with db.transaction(writer=False) as session:
            [row] = session.scalars(select(OutboxMessage))
            assert "ReadTimeout" in row.error and "not resent" in row.error
        with db.transaction() as session:  # a person checked the channel and decides to send it again
            resend_message(session, message_id=row.id, now=NOW + timedelta(days=2))
        assert drain_outbox(NOW + timedelta(days=2), senders={"slack": slack}) == outcome(sent=1)
        assert len(stub.accepted) == 2 and statuses() == [("slack", "sent", 2)]
    finally:
        stub.close()


def test_resending_a_message_that_was_sent_is_refused() -> None:
    from journey.errors import Conflict, NotFound

    stub = SlackStub()
    try:
        queue(("slack",))
        drain_outbox(NOW, senders={"slack": SlackSender(stub.url)})
        with db.transaction(writer=False) as session:
            [row] = session.scalars(select(OutboxMessage))
        with pytest.raises(Conflict), db.transaction() as session:
            resend_message(session, message_id=row.id, now=NOW)
        with pytest.raises(NotFound), db.transaction() as session:
            resend_message(session, message_id=row.id + 1000, now=NOW)
        assert len(stub.accepted) == 1
    finally:
        stub.close()


def test_slack_refusing_the_connection_is_retried_and_then_sent_once() -> None:
    queue(("slack",))
    closed = f"http://127.0.0.1:{free_port()}/services/T0/B0/x"
    assert drain_outbox(NOW, senders={"slack": SlackSender(closed)}) == outcome(retry=1)
    assert statuses() == [("slack", "pending", 1)]
    stub = SlackStub()
    try:
        later = NOW + timedelta(minutes=2)
        assert drain_outbox(later, senders={"slack": SlackSender(stub.url)}) == outcome(sent=1)
        assert len(stub.accepted) == 1 and statuses() == [("slack", "sent", 2)]
    finally:
        stub.close()


def test_two_drainers_in_threads_send_each_message_once_when_a_lease_runs_out() -> None:
    """Drainer A claims all 30 messages with a 2 s lease and takes 0.1 s per send; B starts 2.3 s later on
    the same clock, finds A's unsent messages' leases expired and takes them over. A must then drop them."""
    for i in range(30):
        queue(("slack",), key=f"r-{i}")
    stub = SlackStub(delay=0.1)
    lease = timedelta(seconds=2)
    results: dict[str, dict[str, int]] = {}
    started = time.monotonic()

    def drain(name: str, wait: float) -> None:
        time.sleep(wait)
        now = NOW + timedelta(seconds=time.monotonic() - started)
        results[name] = drain_outbox(now, senders={"slack": SlackSender(stub.url)}, batch=30, lease=lease)

    threads = [threading.Thread(target=drain, args=("a", 0.0)), threading.Thread(target=drain, args=("b", 2.3))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        texts = [m["text"] for m in stub.accepted]
        assert len(texts) == 30 and stub.attempts == 30  # each message once, none twice
        assert results["a"]["sent"] + results["b"]["sent"] == 30
        assert results["b"]["sent"] >= 1 and results["a"]["lost"] == results["b"]["sent"]
        assert {s for _, s, _ in statuses()} == {"sent"}
    finally:
        stub.close()
