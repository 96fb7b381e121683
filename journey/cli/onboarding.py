"""`journey team ...`, `journey packets ...`, `journey tasks ...`: the roster, the handoff packet sweep,
and plan tasks from the command line. Imports stay inside commands."""
from __future__ import annotations

import typer

team_app = typer.Typer(help="The CSM / AM roster the assignment rules read.", no_args_is_help=True)
packets_app = typer.Typer(help="Handoff packets.", no_args_is_help=True)
tasks_app = typer.Typer(help="Onboarding plan tasks.", no_args_is_help=True)


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@team_app.command("set")
def team_set(email: str = typer.Option(..., help="the member's email"),
             segments: str = typer.Option(None, help="comma-separated, e.g. mid_market,smb ('' = any)"),
             regions: str = typer.Option(None, help="comma-separated ISO codes, e.g. FR,BE ('' = any)"),
             languages: str = typer.Option(None, help="comma-separated, e.g. fr,en"),
             capacity: int = typer.Option(None, min=0, help="most accounts this member owns"),
             active: bool = typer.Option(None, "--active/--inactive", help="inactive members get no new accounts"),
             ) -> None:
    """Set what the assignment rules read of a CSM or AM."""
    from journey import audit, db
    from journey.audit import Actor
    from journey.errors import NotFound
    from journey.models import ActorKind
    from journey.team import repository

    changes = {k: v for k, v in (("segments", _split(segments)), ("regions", _split(regions)),
                                 ("languages", _split(languages)), ("capacity_accounts", capacity),
                                 ("active", active)) if v is not None}
    with db.transaction() as session:
        member = repository.by_email(session, email)
        if member is None:
            raise NotFound(f"no team member with email {email.lower()}")
        for key, value in changes.items():
            setattr(member, key, value)
        audit.record(session, actor=Actor(ActorKind.cli, "cli"), action="roster.updated",
                     subject=f"member {member.email}"[:200], changes=changes)
        typer.echo(f"{member.email} ({member.role.value}): segments={member.segments or 'any'} "
                   f"regions={member.regions or 'any'} capacity={member.capacity_accounts or 'unlimited'}")


@packets_app.command("remind")
def packets_remind() -> None:
    """Remind AEs whose packets are incomplete now (the scheduler does this every hour)."""
    from journey import db
    from journey.handoff import service
    from journey.kit import utcnow

    with db.transaction() as session:
        typer.echo(f"{service.remind_incomplete_packets(session, now=utcnow())} reminder(s) raised")


@tasks_app.command("update")
def tasks_update(task_id: int = typer.Argument(..., help="the task id (GET /api/accounts/{id}/plan)"),
                 email: str = typer.Option(..., "--as", help="act as this team member"),
                 action: str = typer.Option(None, help="start, done, skip or reopen"),
                 reason: str = typer.Option(None, help="why (required to skip)"),
                 assignee: str = typer.Option(None, help="new assignee's email")) -> None:
    """Start, finish, skip, reopen or reassign a task, with the same rules as PATCH /api/tasks/{id}."""
    from journey import db
    from journey.errors import NotFound
    from journey.kit import utcnow
    from journey.onboarding import service
    from journey.team import repository

    with db.transaction() as session:
        member = repository.by_email(session, email)
        if member is None:
            raise NotFound(f"no team member with email {email.lower()}")
        task = service.update_task(session, task_id=task_id, member=member, action=action, reason=reason,
                                   assignee=assignee, now=utcnow())
        typer.echo(f"task {task.id} {task.key}: {task.status}")
