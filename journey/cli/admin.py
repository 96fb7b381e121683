"""Administrative commands: database, team members, tokens, inbox, configuration."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from journey.cli.acting import refusals
from journey.cli.groups import command_group

db_app = command_group("The database: migrations (Alembic), backup and restore.")
users_app = command_group("Team members: create them, allow them to sign in.")
tokens_app = command_group("API tokens.")
events_app = command_group("The webhook inbox: list, dead letters, replay.")
config_app = command_group("Configuration: settings, playbooks and scorecards.")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default head)."""
    from journey import migrations

    migrations.upgrade(revision=revision)
    typer.echo(f"database at {revision}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the code's head."""
    from journey import db, migrations

    with db.get_engine().connect() as conn:
        current = migrations.current_revision(conn)
    head = migrations.head_revision()
    typer.echo(f"current: {current or '(empty database)'}\nhead:    {head}")
    if current != head:
        typer.echo("run: journey db upgrade")


@db_app.command("backup")
def db_backup(path: Path = typer.Argument(..., help="the backup file to write (replaced if it exists)")) -> None:
    """Copy the whole database into PATH while journey keeps serving (SQLite: online backup; PostgreSQL:
    pg_dump's custom format). Back up the data folder's secret_key and webhook_secret too."""
    from journey import backup
    from journey.config import get_settings

    with refusals():  # a BackupError: `error: ...`, exit code 1
        backup.backup(get_settings().database_url, path)
    typer.echo(f"database backed up to {path}")


@db_app.command("restore")
def db_restore(path: Path = typer.Argument(..., help="a file written by `journey db backup`"),
               force: bool = typer.Option(False, "--force", help="replace a database that holds rows")) -> None:
    """Replace the database with the backup PATH (stop journey first). Refused over a database that holds rows
    unless --force. Run `journey db upgrade` afterwards if the backup is older than the code."""
    from journey import backup
    from journey.config import get_settings

    with refusals():  # a BackupError: `error: ...`, exit code 1
        backup.restore(get_settings().database_url, path, force=force)
    typer.echo(f"database restored from {path}")


@users_app.command("create")
def users_create(email: str = typer.Option(..., help="sign-in email"),
                 name: str = typer.Option(..., help="display name"),
                 role: str = typer.Option(..., help="ae, se, csm, am, manager, admin or revops"),
                 password_stdin: bool = typer.Option(False, "--password-stdin",
                                                     help="read a password (10+ characters) from stdin"),
                 timezone: str = typer.Option("UTC", help="IANA time zone dates are shown in")) -> None:
    """Create a team member."""
    from journey import db
    from journey.team import service

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with db.transaction() as session:
        member = service.create_member(session, email=email, name=name, role=role, password=password,
                                       timezone=timezone)
        typer.echo(f"created {member.role} {member.email} (id {member.id})", err=True)


@users_app.command("enable")
def users_enable(email: str = typer.Option(..., help="the member's email"),
                 disable: bool = typer.Option(False, "--disable", help="take the right away instead")) -> None:
    """Let a member sign in (members the CRM names start without it), or with --disable stop them."""
    from journey import db
    from journey.audit import Actor
    from journey.models import ActorKind
    from journey.team import service

    with db.transaction() as session:
        member = service.set_sign_in(session, email=email, allowed=not disable,
                                     actor=Actor(ActorKind.cli, "journey users enable"))
        state = "may sign in" if member.can_sign_in else "may no longer sign in (sessions and tokens refused)"
        typer.echo(f"{member.email} {state}" + ("" if member.active else "; note: this member is deactivated"),
                   err=True)


@tokens_app.command("create")
def tokens_create(email: str = typer.Option(..., help="the team member the token acts as"),
                  label: str = typer.Option("cli", help="what the token is for"),
                  days: int = typer.Option(None, min=1, max=3650,
                                           help="how long it works (default JOURNEY_TOKEN_DAYS, 90)")) -> None:
    """Create an API token; it is printed alone on stdout, once (only its digest is stored)."""
    from datetime import timedelta

    from journey import db
    from journey.config import get_settings
    from journey.kit import utcnow
    from journey.team import service

    days = days or get_settings().token_days
    now = utcnow()
    with db.transaction() as session:
        token = service.create_token(session, email=email, label=label, days=days, now=now)
    typer.echo(token)
    typer.echo(f"expires {now + timedelta(days=days):%Y-%m-%d %H:%M} UTC ({days} days)", err=True)


@tokens_app.command("list")
def tokens_list(email: str = typer.Option(None, help="only this member's tokens"),
                as_json: bool = typer.Option(False, "--json", help="print a JSON array")) -> None:
    """List API tokens: id, member, label, last characters, created, expires, last used, revoked (never the
    secret)."""
    import json
    from dataclasses import asdict
    from datetime import datetime

    from journey import db
    from journey.kit import utcnow
    from journey.team import service

    with db.transaction(writer=False) as session:
        rows = service.list_tokens(session, email=email, now=utcnow())
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], default=lambda t: t.isoformat(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    def day(value: datetime | None) -> str:
        return f"{value:%Y-%m-%d}" if value else ""

    table = Table("id", "member", "label", "token", "created", "expires", "last used", "revoked", "state")
    for r in rows:
        table.add_row(str(r.id), r.email, r.label, r.token, day(r.created_at), day(r.expires_at),
                      day(r.last_used_at), day(r.revoked_at), str(r.state))
    Console(width=None if sys.stdout.isatty() else 200).print(table)  # piped: whole values, no ellipses


@tokens_app.command("revoke")
def tokens_revoke(token_id: int = typer.Argument(None, min=1, max=2**31 - 1,
                                                 help="the id shown by `journey tokens list`"),
                  email: str = typer.Option(None, help="with --all: every token of this member"),
                  all_: bool = typer.Option(False, "--all", help="revoke every token of --email")) -> None:
    """Revoke one token (by id) or every token of a member (--email E --all); it answers 401 from then on."""
    from journey import db
    from journey.audit import Actor
    from journey.kit import utcnow
    from journey.models import ActorKind
    from journey.team import service

    if (token_id is None) == (email is None) or (email is not None) != all_:
        raise typer.BadParameter("give a token ID, or --email E --all")
    actor = Actor(ActorKind.cli, "cli")
    with db.transaction() as session:
        if token_id is not None:
            done = service.revoke_token(session, token_id=token_id, actor=actor, now=utcnow())
            typer.echo(f"token {token_id} revoked" if done else f"token {token_id} was already revoked")
        else:
            count = service.revoke_member_tokens(session, email=email, actor=actor, now=utcnow())
            typer.echo(f"{count} token(s) of {email.lower()} revoked")


@events_app.command("list")
def events_list(status: str = typer.Option(None, help="pending, processed, ignored or dead"),
                limit: int = typer.Option(50, min=1, max=1000),
                as_json: bool = typer.Option(False, "--json", help="print a JSON array")) -> None:
    """List inbox events, oldest first."""
    import json

    from rich.console import Console
    from rich.table import Table

    from journey import db
    from journey.inbox import repository
    from journey.models import EventStatus

    try:
        wanted = EventStatus(status) if status else None
    except ValueError:
        raise typer.BadParameter(f"{status!r} is not a status; use one of "
                                 f"{', '.join(s.value for s in EventStatus)}", param_hint="--status") from None
    with db.transaction(writer=False) as session:
        rows = repository.page(session, status=wanted, after_id=0, limit=limit)
    if as_json:
        typer.echo(json.dumps([{"id": e.id, "source": e.source, "type": e.type, "deal": e.subject,
                                "status": str(e.status), "attempts": e.attempts,
                                "received_at": e.received_at.isoformat(), "error": e.error} for e in rows], indent=2))
        return
    table = Table("id", "source", "type", "deal", "status", "attempts", "received", "error")
    for e in rows:
        table.add_row(str(e.id), e.source, e.type, e.subject or "", str(e.status), str(e.attempts),
                      e.received_at.strftime("%Y-%m-%d %H:%M:%S"), (e.error or "")[:60])
    Console().print(table)


@events_app.command("replay")
def events_replay(event_id: int) -> None:
    """Put a processed, ignored or dead event back in the queue; a running server picks it up."""
    from journey import db
    from journey.errors import JourneyError
    from journey.inbox import service
    from journey.kit import utcnow

    try:
        with db.transaction() as session:
            service.replay_event(session, event_id=event_id, now=utcnow())
    except JourneyError as exc:
        typer.secho(f"error: {exc.detail}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"event {event_id} queued again")


@config_app.command("check")
def config_check() -> None:
    """Validate the settings, then playbooks (their review cadences and packet rules); print what is wrong."""
    from journey.config import settings_problems
    from journey.config_check import check_all

    problems = settings_problems() or check_all()
    for line in problems:
        typer.secho(line, fg="red", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("configuration OK")


@config_app.command("env-example")
def config_env_example() -> None:
    """Print every JOURNEY_* variable with its default and meaning, as .env.example holds them."""
    from journey.settings_docs import env_example

    typer.echo(env_example(), nl=False)
