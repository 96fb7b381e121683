"""`journey team ...`, `journey packets ...`, `journey tasks ...`: the roster, the handoff packet sweep,
and plan tasks from the command line. Imports stay inside commands."""
from __future__ import annotations

from enum import StrEnum

import typer

from journey.cli.acting import ACCOUNT_ARG, AS_OPTION, account_in_book, acting_member, refusals
from journey.cli.groups import command_group

team_app = command_group("The CSM / AM roster the assignment rules read.")
packets_app = command_group("Handoff packets.")
tasks_app = command_group("Onboarding plan tasks.")


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@team_app.command("set")
def team_set(email: str = typer.Option(..., help="the member's email"),
             segments: str = typer.Option(None, help="comma-separated, e.g. mid_market,smb ('' = any)"),
             regions: str = typer.Option(None, help="comma-separated ISO codes, e.g. FR,BE ('' = any)"),
             languages: str = typer.Option(None, help="comma-separated, e.g. fr,en"),
             capacity: int = typer.Option(None, min=0, help="most accounts this member owns"),
             capacity_arr: float = typer.Option(None, min=0, help="most ARR (sum of active deals' amounts)"),
             active: bool = typer.Option(None, "--active/--inactive", help="inactive members get no new accounts"),
             ) -> None:
    """Set what the assignment rules read of a CSM or AM, or (de)activate a member (never the last admin)."""
    from decimal import Decimal

    from journey import db
    from journey.audit import Actor
    from journey.errors import NotFound
    from journey.models import ActorKind
    from journey.team import repository, service

    arr = None if capacity_arr is None else Decimal(str(capacity_arr))
    changes: dict[str, object] = {k: v for k, v in (
        ("segments", _split(segments)), ("regions", _split(regions)), ("languages", _split(languages)),
        ("capacity_accounts", capacity), ("capacity_arr", arr), ("active", active)) if v is not None}
    with refusals(), db.transaction() as session:
        member = repository.by_email(session, email)
        if member is None:
            raise NotFound(f"no team member with email {email.lower()}")
        service.update_member(session, target=member, changes=changes, by=None, actor=Actor(ActorKind.cli, "cli"))
        typer.echo(f"{member.email} ({member.role.value}): segments={member.segments or 'any'} "
                   f"regions={member.regions or 'any'} capacity={member.capacity_accounts or 'unlimited'} "
                   f"capacity_arr={member.capacity_arr or 'unlimited'}")


@packets_app.command("remind")
def packets_remind() -> None:
    """Remind AEs whose packets are incomplete now (the scheduler does this every hour)."""
    from journey import db
    from journey.handoff import service
    from journey.kit import utcnow

    with db.transaction() as session:
        typer.echo(f"{service.remind_incomplete_packets(session, now=utcnow())} reminder(s) raised")


class PacketFormat(StrEnum):
    text = "text"
    md = "md"
    json = "json"


class Decision(StrEnum):
    accept = "accept"
    return_ = "return"


@packets_app.command("show")
def packets_show(account: str = ACCOUNT_ARG, email: str = AS_OPTION,
                 fmt: PacketFormat = typer.Option(PacketFormat.text, "--format",
                                                  help="text (a summary), md (the whole packet) or json")) -> None:
    """The account's handoff packet: state, completeness and what is missing, or all of it as Markdown."""
    from journey import db
    from journey.handoff import reads
    from journey.handoff.rendering import render_packet

    with refusals(), db.transaction(writer=False) as session:
        member = acting_member(session, email)
        acc = account_in_book(session, account, member)
        packet = reads.latest_packet(session, acc, account)
        if fmt is PacketFormat.md:
            typer.echo(render_packet(reads.render_context(session, acc, packet), fmt="md"))
            return
        read = reads.packet_read(session, packet)
    if fmt is PacketFormat.json:
        typer.echo(read.model_dump_json(indent=2))
        return
    typer.echo(f"{acc.name}: packet v{read.version}, {read.state}, {read.completeness}% complete")
    for name in read.missing:
        typer.echo(f"  missing {name}: {read.missing_reasons.get(name, 'missing')}")
    for ack in read.acknowledgements:
        comment = f": {ack.comment}" if ack.comment else ""
        typer.echo(f"  {ack.role} {ack.member_email} {ack.decision} v{ack.version}{comment}")


@packets_app.command("ack")
def packets_ack(account: str = ACCOUNT_ARG, email: str = AS_OPTION,
                decision: Decision = typer.Option(..., help="accept, or return it to the AE"),
                comment: str = typer.Option(None, help="required to return it")) -> None:
    """As the account's CSM or AM: accept the current version, or send it back with a comment."""
    from journey import db
    from journey.handoff import service
    from journey.kit import utcnow
    from journey.policy import Action

    with refusals(), db.transaction() as session:
        member = acting_member(session, email)
        acc = account_in_book(session, account, member, Action.acknowledge_packet)
        outcome = service.acknowledge_packet(session, account_id=acc.id, member=member, decision=decision.value,
                                             comment=comment, now=utcnow())
        typer.echo(f"{acc.name}: packet v{outcome.packet.version} {decision.value}ed by {member.email}; "
                   f"now {outcome.packet.state}")


@tasks_app.command("update")
def tasks_update(task_id: int = typer.Argument(..., help="the task id (GET /api/accounts/{id}/plan)"),
                 email: str = AS_OPTION,
                 action: str = typer.Option(None, help="start, done, skip or reopen"),
                 reason: str = typer.Option(None, help="why (required to skip)"),
                 assignee: str = typer.Option(None, help="new assignee's email")) -> None:
    """Start, finish, skip, reopen or reassign a task, with the same rules as PATCH /api/tasks/{id}."""
    from journey import db
    from journey.kit import utcnow
    from journey.onboarding import service

    with refusals(), db.transaction() as session:
        member = acting_member(session, email)
        task = service.update_task(session, task_id=task_id, member=member, action=action, reason=reason,
                                   assignee=assignee, now=utcnow())
        typer.echo(f"task {task.id} {task.key}: {task.status}")
