"""Delivery of outbox messages: SMTP email (HTML + text + attachments) and Slack incoming webhooks.

A sender raises :class:`PermanentFailure` when retrying cannot help (a rejected address, a revoked
webhook), :class:`Unconfirmed` when the message went out but no answer came back (it may have been
delivered: sending it again could double it), and any other exception when nothing reached the receiver
or the receiver refused it for now (connection refused, 5xx, 429), so a later attempt is safe.
"""
from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from journey.config import get_settings


class PermanentFailure(Exception):
    """Retrying will not help: the message becomes a dead letter."""


class Unconfirmed(Exception):
    """The request may have reached the receiver (sent, then no answer): not resent automatically."""


class RetryLater(Exception):
    def __init__(self, detail: str, *, after_seconds: float | None = None) -> None:
        super().__init__(detail)
        self.after_seconds = after_seconds


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    attachments: list[dict[str, Any]]
    dedupe_key: str


class Sender(Protocol):
    def send(self, message: Outgoing) -> None: ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    mode: str  # plain, starttls, ssl
    sender: str
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str, *, default_sender: str) -> SmtpConfig:
        """`smtp://user:pass@host:587?starttls=1&from=journey@example.com` or `smtps://...` (implicit TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("JOURNEY_SMTP_URL must start with smtp:// or smtps://")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        starttls = query.get("starttls", "").lower() in ("1", "true", "yes")
        mode = "ssl" if parts.scheme == "smtps" else "starttls" if starttls else "plain"
        port = parts.port or (465 if mode == "ssl" else 587 if starttls else 25)
        return cls(host=parts.hostname or "localhost", port=port,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None, mode=mode,
                   sender=query.get("from", default_sender))


def email_message(message: Outgoing, *, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    # stable per outbox message: a receiving server can drop a copy sent again after a crash
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:32]
    mail["Message-ID"] = f"<{digest}@journey>"
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    for item in message.attachments:
        maintype, _, rest = item.get("content_type", "application/octet-stream").partition("/")
        subtype, _, params = rest.partition(";")
        content = item["content"]
        if isinstance(content, str) and maintype == "text":
            extra = dict(p.strip().split("=", 1) for p in params.split(";") if "=" in p)
            mail.add_attachment(content, subtype=subtype.strip(), filename=item["filename"], params=extra)
        else:
            data = content.encode() if isinstance(content, str) else content
            mail.add_attachment(data, maintype=maintype, subtype=subtype.strip() or "octet-stream",
                                filename=item["filename"])
    return mail


class _TracksData:
    """Remembers whether the DATA stage began: from then on the server may have taken the message."""

    data_started = False

    def data(self, msg):  # type: ignore[no-untyped-def]
        self.data_started = True
        return super().data(msg)  # type: ignore[misc]


class _Smtp(_TracksData, smtplib.SMTP):
    pass


class _SmtpSsl(_TracksData, smtplib.SMTP_SSL):
    pass


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, message: Outgoing) -> None:
        c = self.config
        mail = email_message(message, sender=c.sender)
        client: _Smtp | _SmtpSsl | None = None
        try:
            if c.mode == "ssl":
                client = _SmtpSsl(c.host, c.port, timeout=c.timeout, context=ssl.create_default_context())
            else:
                client = _Smtp(c.host, c.port, timeout=c.timeout)
            if c.mode == "starttls":
                client.starttls(context=ssl.create_default_context())
            if c.username:
                client.login(c.username, c.password or "")
            client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {message.recipient}") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"SMTP {exc.smtp_code}") from exc
            raise RetryLater(f"SMTP {exc.smtp_code}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            if client is not None and client.data_started:
                raise Unconfirmed(f"SMTP: no answer after the message went out ({type(exc).__name__})") from exc
            raise RetryLater(f"SMTP unavailable: {type(exc).__name__}") from exc
        else:
            _quit_quietly(client)
        finally:
            if client is not None:
                client.close()


def _quit_quietly(client: smtplib.SMTP) -> None:
    """The message was accepted: a QUIT that fails changes nothing about it."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


# raised before the request's last byte left: Slack cannot have acted on it
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout,
            httpx.ProxyError, httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def slack_escape(text: str) -> str:
    """Text as Slack shows it literally: `&`, `<` and `>` are its control characters (`<!channel>`,
    `<https://x|label>`), so text from the CRM or a person is escaped before it reaches Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackSender:
    """Slack incoming webhook: one channel; the message names the person it is for. Every text field is
    escaped (`slack_escape`): a deal named `<!channel>` cannot ping the channel or forge a link. The
    links we write are bare URLs, which Slack links by itself, and escaping leaves them as they are.
    """

    def __init__(self, webhook_url: str, *, client: httpx.Client | None = None, timeout: float = 10.0) -> None:
        self.webhook_url = webhook_url
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, message: Outgoing) -> None:
        subject, recipient, body = (slack_escape(t) for t in (message.subject, message.recipient, message.body_text))
        payload = {"text": f"*{subject}* (for {recipient})\n{body}", "unfurl_links": False}
        try:
            response = self.client.post(self.webhook_url, json=payload)
        except NOT_SENT as exc:
            raise RetryLater(f"Slack unreachable: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            # the whole request went out and no answer came back (read timeout, connection dropped)
            raise Unconfirmed(f"Slack did not answer after the message went out ({type(exc).__name__})") from exc
        if response.status_code == 200:
            return
        if response.status_code == 429 or response.status_code >= 500:
            after = response.headers.get("Retry-After")
            raise RetryLater(f"Slack {response.status_code}",
                             after_seconds=float(after) if after and after.isdigit() else None)
        raise PermanentFailure(f"Slack {response.status_code}: {response.text[:200]}")


def senders_from_settings() -> dict[str, Sender]:
    settings = get_settings()
    senders: dict[str, Sender] = {}
    if settings.smtp_url:
        senders["email"] = SmtpSender(SmtpConfig.from_url(settings.smtp_url, default_sender=settings.smtp_from))
    if settings.slack_webhook_url:
        senders["slack"] = SlackSender(settings.slack_webhook_url)
    return senders
