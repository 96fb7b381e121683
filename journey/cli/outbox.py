"""`journey outbox list` and `journey outbox resend ID`: see what was not delivered, send it again by hand.

Both cover the notifications (email, Slack) and the CRM write-back (rows `crm-<id>`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import typer

from journey.cli.groups import command_group

outbox_app = command_group("Outbox of notifications and CRM writes: list them, resend a dead or unconfirmed one.")


@outbox_app.command("list")
def outbox_list(status: str = typer.Option(None, help="pending, sent, unconfirmed, dead or skipped (CRM writes: "
                                                      "pending, idle = written, dead)"),
                limit: int = typer.Option(50, min=1, max=1000),
                as_json: bool = typer.Option(False, "--json", help='print {"messages": [...], "crm_writes": [...]}'),
                ) -> None:
    """List outbox messages, oldest first, then the CRM writes (`crm-<id>`) with the CRM's own error."""
    import json

    from rich.console import Console
    from rich.table import Table

    from journey import db
    from journey.notify import repository
    from journey.writeback import repository as writeback_repository

    with db.transaction(writer=False) as session:
        rows = repository.messages(session, status=status, after_id=0, limit=limit)
        writes = writeback_repository.rows(session, status=status or None, limit=limit)
    if as_json:
        typer.echo(json.dumps({"messages": [_message(m) for m in rows], "crm_writes": [_write(w) for w in writes]},
                              indent=2))
        return
    table = Table("id", "channel", "recipient", "subject", "status", "attempts", "created", "error")
    for m in rows:
        table.add_row(str(m.id), m.channel, m.recipient, m.subject[:40], m.status, str(m.attempts),
                      m.created_at.strftime("%Y-%m-%d %H:%M:%S"), (m.error or "")[:60])
    console = Console(width=200)
    console.print(table)
    if writes:
        crm = Table("id", "crm", "record", "account", "status", "attempts", "last written", "error", title="CRM writes")
        for w in writes:
            crm.add_row(f"crm-{w.id}", w.crm, f"{w.object_type} {w.object_id}", str(w.account_id), w.status,
                        str(w.attempts), w.acked_at.strftime("%Y-%m-%d %H:%M:%S") if w.acked_at else "",
                        (w.error or "")[:120])
        console.print(crm)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _message(m: Any) -> dict[str, Any]:
    return {"id": m.id, "channel": m.channel, "recipient": m.recipient, "subject": m.subject, "status": m.status,
            "attempts": m.attempts, "created_at": _when(m.created_at), "error": m.error}


def _write(w: Any) -> dict[str, Any]:
    return {"id": f"crm-{w.id}", "crm": w.crm, "object_type": w.object_type, "object_id": w.object_id,
            "account_id": w.account_id, "status": w.status, "attempts": w.attempts,
            "last_written_at": _when(w.acked_at), "error": w.error}


@outbox_app.command("resend")
def outbox_resend(message_id: str = typer.Argument(..., help="a message id, or crm-<id> for a CRM write")) -> None:
    """Send an unconfirmed or dead message again (an unconfirmed one may already have arrived: check first), or
    queue a dead CRM write again (after fixing its cause: a property created, a record restored)."""
    from journey import db
    from journey.errors import InvalidInput
    from journey.kit import row_id, utcnow
    from journey.notify import service
    from journey.writeback import service as writeback_service

    crm = message_id.startswith("crm-")
    number = row_id(message_id.removeprefix("crm-"))
    if number is None:
        raise InvalidInput(f"{message_id} is not an outbox id (a number, or crm-<number>)")
    with db.transaction() as session:
        if crm:
            writeback_service.resend(session, write_id=number, now=utcnow())
        else:
            service.resend_message(session, message_id=number, now=utcnow())
    typer.echo(f"{'CRM write' if crm else 'message'} {message_id} queued again")
