"""`journey plan show`, `journey go-live set`, `journey owners set`, `journey objectives progress` and
`journey kpis`: thin commands over the same services as the API, each one transaction, acting as a named
member (`--as EMAIL`) with that member's book and rights."""
from __future__ import annotations

import typer

from journey.cli.acting import ACCOUNT_ARG, AS_OPTION, account_in_book, acting_member, refusals
from journey.cli.groups import command_group

plan_app = command_group("Onboarding plans.")
go_live_app = command_group("The expected go-live of an account.")
owners_app = command_group("The CSM + AM pair of an account.")
objectives_app = command_group("Client business objectives and their measured progress.")


@plan_app.command("show")
def plan_show(account: str = ACCOUNT_ARG, email: str = AS_OPTION,
              as_json: bool = typer.Option(False, "--json", help="print GET /api/accounts/{id}/plan's JSON")) -> None:
    """The plan of the account's current journey: status, milestones, tasks, go-live slips."""
    from journey import db
    from journey.errors import NotFound
    from journey.kit import utcnow
    from journey.onboarding import reads, repository

    with refusals(), db.transaction(writer=False) as session:
        member = acting_member(session, email)
        acc = account_in_book(session, account, member)
        journeys = repository.current_journeys(session, member, account_id=acc.id)
        plan = reads.plan_of(session, journeys[0][0], acc, today=utcnow().date()) if journeys else None
        if plan is None:
            raise NotFound(f"account {account} has no plan yet")
        if as_json:
            typer.echo(plan.model_dump_json(by_alias=True, indent=2))
            return
        pct = "—" if plan.on_time_pct is None else f"{plan.on_time_pct:g}%"
        typer.echo(f"{acc.name} (account {acc.id}): {plan.status}, {pct} on time, kickoff {plan.kickoff_on}, "
                   f"go-live {plan.go_live_on}")
        for m in plan.milestones:
            typer.echo(f"\n{m.name} [{m.status}] due {m.due_on}")
            for t in m.tasks:
                lock = " (waits for packet)" if t.waits_for_packet and t.status in ("todo", "in_progress") else ""
                typer.echo(f"  {t.id:>6}  {t.status:<11} {t.due_on}  {t.title}{lock}")
        for s in plan.slips:
            typer.echo(f"\ngo-live {s.from_} -> {s.to} on {s.at:%Y-%m-%d} by {s.actor or '?'}: {s.reason}")


@go_live_app.command("set")
def go_live_set(account: str = ACCOUNT_ARG,
                day: str = typer.Argument(..., metavar="DATE", help="the new expected go-live, YYYY-MM-DD"),
                reason: str = typer.Option(..., help="why it moves (kept with the slip)"),
                email: str = AS_OPTION) -> None:
    """Move the expected go-live, as PUT /api/accounts/{id}/go-live: open go-live tasks and reviews follow."""
    from datetime import date

    from journey import db
    from journey.kit import utcnow
    from journey.onboarding import golive
    from journey.policy import Action

    try:
        new_go_live = date.fromisoformat(day)
    except ValueError as exc:
        raise typer.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)", param_hint="DATE") from exc
    with refusals(), db.transaction() as session:
        member = acting_member(session, email)
        acc = account_in_book(session, account, member, Action.move_go_live)
        moved = golive.set_go_live(session, account=acc, member=member, new_go_live=new_go_live, reason=reason,
                                   now=utcnow())
    if moved.old_go_live == new_go_live:
        typer.echo(f"{acc.name}: go-live is already {new_go_live}; nothing moved")
    else:
        typer.echo(f"{acc.name}: go-live {moved.old_go_live} -> {new_go_live}; {moved.tasks_moved} open task(s) "
                   f"and {moved.reviews_moved} review(s) moved")


@owners_app.command("set")
def owners_set(account: str = ACCOUNT_ARG,
               csm: str = typer.Option(None, help="the new CSM's email"),
               am: str = typer.Option(None, help="the new AM's email"),
               reason: str = typer.Option(..., help="why the owners change (kept in the ownership history)"),
               email: str = AS_OPTION) -> None:
    """A manager or admin sets the account's CSM and/or AM, as PUT /api/accounts/{id}/owners."""
    from journey import db
    from journey.kit import utcnow
    from journey.policy import Action
    from journey.team import ownership

    owners = {k: v for k, v in (("csm", csm), ("am", am)) if v}
    if not owners:
        raise typer.BadParameter("name a --csm and/or an --am")
    with refusals(), db.transaction() as session:
        member = acting_member(session, email)
        acc = account_in_book(session, account, member, Action.reassign_owner)
        ownership.override_owners(session, account_id=acc.id, manager=member, owners=owners, reason=reason,
                                  now=utcnow())
        names = _emails(session, acc.csm_id, acc.am_id)
    typer.echo(f"{acc.name}: CSM {names[0]}, AM {names[1]}")


def _emails(session, *ids: int | None) -> list[str]:  # type: ignore[no-untyped-def]
    from journey.accounts.repository import members_by_id

    members = members_by_id(session, {i for i in ids if i})
    return [members[i].email if i in members else "none" for i in ids]


@objectives_app.command("progress")
def objectives_progress(account: str = ACCOUNT_ARG,
                        objective_id: int = typer.Argument(..., min=1, help="GET /api/accounts/{id}/objectives"),
                        value: float = typer.Option(..., help="the KPI's measured value"),
                        note: str = typer.Option(None, help="where the number comes from"),
                        email: str = AS_OPTION) -> None:
    """Record a measured value of an objective's KPI (source `manual`); its status follows."""
    from journey import db
    from journey.audit import Actor
    from journey.kit import utcnow
    from journey.objectives import service
    from journey.policy import Action

    now = utcnow()
    with refusals(), db.transaction() as session:
        member = acting_member(session, email)
        acc = account_in_book(session, account, member, Action.record_objective_progress)
        view = service.record_progress(session, objective_id=objective_id, account_id=acc.id, value=value, at=now,
                                       source="manual", note=note, actor=Actor.user(member.email), now=now)
        a = view.assessment
        progress = "unmeasured" if a.progress is None else f"{a.progress:.0%} of the way"
        typer.echo(f"{view.objective.title}: {a.status} ({progress}; {a.reason})")


def kpis(email: str = AS_OPTION,
         as_json: bool = typer.Option(False, "--json", help="print GET /api/kpis/onboarding's JSON")) -> None:
    """Onboarding KPIs over the member's book: plan status, on-time % and time-to-value per account and CSM."""
    from journey import db
    from journey.kit import utcnow
    from journey.onboarding import reads

    with refusals(), db.transaction(writer=False) as session:
        member = acting_member(session, email)
        result = reads.onboarding_kpis(session, member, today=utcnow().date())
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:g}%"

    def days(value: float | None) -> str:
        return "—" if value is None else f"{value:g} d"

    o = result.overall
    typer.echo(f"overall: {o.accounts} account(s), {pct(o.on_time_pct)} on time, median time-to-value "
               f"{days(o.median_time_to_value_days)} ({o.value_reached} reached value)")
    for t in result.teams:
        typer.echo(f"  CSM {t.csm_email or 'unassigned'}: {t.accounts} account(s), {pct(t.on_time_pct)} on time, "
                   f"median time-to-value {days(t.median_time_to_value_days)}")
    for a in result.accounts:
        typer.echo(f"  {a.account_id:>6}  {a.plan_status:<8} {pct(a.on_time_pct):>6}  "
                   f"ttv {days(a.time_to_value_days):>6}  {a.name}")
