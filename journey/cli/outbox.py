"""`journey outbox list` and `journey outbox resend ID`: see what was not delivered, send it again by hand."""
from __future__ import annotations

import typer

from journey.cli.groups import command_group

outbox_app = command_group("Notification outbox: list messages, resend an unconfirmed one.")


@outbox_app.command("list")
def outbox_list(status: str = typer.Option(None, help="pending, sent, unconfirmed, dead or skipped"),
                limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """List outbox messages, oldest first."""
    from rich.console import Console
    from rich.table import Table

    from journey import db
    from journey.notify import repository

    with db.transaction(writer=False) as session:
        rows = repository.messages(session, status=status, after_id=0, limit=limit)
    table = Table("id", "channel", "recipient", "subject", "status", "attempts", "created", "error")
    for m in rows:
        table.add_row(str(m.id), m.channel, m.recipient, m.subject[:40], m.status, str(m.attempts),
                      m.created_at.strftime("%Y-%m-%d %H:%M:%S"), (m.error or "")[:60])
    Console(width=200).print(table)


@outbox_app.command("resend")
def outbox_resend(message_id: int) -> None:
    """Send an unconfirmed or dead message again (an unconfirmed one may already have arrived: check first)."""
    from journey import db
    from journey.kit import utcnow
    from journey.notify import service

    with db.transaction() as session:
        service.resend_message(session, message_id=message_id, now=utcnow())
    typer.echo(f"message {message_id} queued again")
