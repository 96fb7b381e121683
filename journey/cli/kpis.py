"""`journey kpis`: the onboarding KPIs of a member's book (`--as`), and the weekly snapshots."""
from __future__ import annotations

import typer

from journey.cli.acting import refusals
from journey.cli.groups import command_group
from journey.cli.journeys import kpis as book_kpis

kpis_app = command_group("Onboarding KPIs of your book (--as), and the weekly review's snapshots.",
                         no_args_is_help=False, invoke_without_command=True)


@kpis_app.callback()
def kpis(ctx: typer.Context,
         email: str | None = typer.Option(None, "--as", help="act as this team member (their book and their rights)"),
         as_json: bool = typer.Option(False, "--json", help="print GET /api/kpis/onboarding's JSON")) -> None:
    """Onboarding KPIs over the member's book (with --as); or a subcommand."""
    if ctx.invoked_subcommand is not None:
        return
    if email is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)
    book_kpis(email=email, as_json=as_json)


@kpis_app.command("snapshot")
def snapshot(week: str | None = typer.Option(None, help="ISO week, e.g. 2027-W05 (default: this week)")) -> None:
    """Store a week's KPIs per team, segment, region, CSM and AM (a week that has ended keeps its snapshot)."""
    from journey import db
    from journey.kit import utcnow
    from journey.kpis import domain, service

    now = utcnow()
    name = week or domain.week_of(now.date())
    with refusals(), db.transaction() as session:
        written = service.snapshot_week(session, week=name, now=now)
    typer.echo(f"{name}: {written} scope(s) written" if written else f"{name}: already taken after the week ended")


@kpis_app.command("backfill")
def backfill(weeks: int = typer.Option(12, help="how many weeks, ending with this one")) -> None:
    """Snapshot past weeks from what the tables remember (task and milestone completion, the daily health
    history, deals signed and lost, opportunities); weeks already captured are kept."""
    from journey import db
    from journey.kit import utcnow
    from journey.kpis import service

    with refusals(), db.transaction() as session:
        done = service.backfill(session, weeks=weeks, now=utcnow())
    for name, written in done:
        typer.echo(f"{name}: {written} scope(s) written" if written else f"{name}: kept")
