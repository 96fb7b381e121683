"""`journey health recompute`, `journey health backtest FILE.csv` and `journey health override ACCOUNT`."""
from __future__ import annotations

from pathlib import Path

import typer

from journey.cli.acting import ACCOUNT_ARG, AS_OPTION, account_in_book, acting_member, refusals
from journey.cli.groups import command_group

health_app = command_group("Health scores: recompute, back-test a scorecard, override a band.")


@health_app.command("recompute")
def recompute(batch_size: int = typer.Option(2000, min=1, help="accounts per transaction")) -> None:
    """Rescore every account now (the scheduler does it nightly), in set-based batches; the same as
    `journey jobs run recompute_all_health`, with the batch size to choose."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from journey.audit import Actor
    from journey.health import jobs
    from journey.job_context import JobContext
    from journey.kit import utcnow
    from journey.models import ActorKind

    console = Console(stderr=True)
    started = time.perf_counter()
    with Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), console=console) as progress:
        task = progress.add_task("accounts", total=None)
        ctx = JobContext(now=utcnow(), actor=Actor(ActorKind.cli, "journey health recompute"),
                         on_total=lambda n: progress.update(task, total=n),
                         on_advance=lambda n: progress.advance(task, n))
        result = jobs.recompute_all_health(ctx, batch_size=batch_size)
    typer.echo(f"{result['accounts']} accounts scored, {result['band_changes']} changed band "
               f"in {time.perf_counter() - started:.1f} s")


@health_app.command("backtest")
def backtest(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                         help="CSV of past outcomes: account,date,outcome (renewed|churned|expanded)"),
             scorecard: list[Path] = typer.Option(None, "--scorecard", exists=True, dir_okay=False,
                                                  help="a scorecard YAML to test in place of the shipped card of "
                                                       "its name (or stage and segments); repeat it to compare "
                                                       "versions (default: the shipped cards)"),
             against: Path = typer.Option(None, "--against", exists=True, file_okay=False,
                                          help="a directory of older scorecards (e.g. examples/backtest/"
                                               "scorecards-v1): both sets are scored, side by side"),
             as_json: bool = typer.Option(False, "--json", help="print the report as JSON")) -> None:
    """How a scorecard would have ranked known renewals and churns: AUC, precision of the red band, churners
    still green 90 days before they left."""
    import json

    from journey import db
    from journey.health import service
    from journey.health.backtest import parse_outcomes, report, side_by_side
    from journey.health.scorecards import ScorecardError, load_scorecard, load_scorecards

    outcomes, problems = parse_outcomes(file.read_text(encoding="utf-8-sig"))
    for problem in problems:
        typer.secho(f"{file}: {problem}", fg="yellow", err=True)
    try:
        cards = [load_scorecard(p) for p in scorecard or []] or [None]
        older = load_scorecards(against) if against else None
    except ScorecardError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc
    reports, names = [], []
    with db.transaction(writer=False) as session:
        if older is not None:
            reports.append(report(_label(older), service.backtest(session, outcomes=outcomes, cards=older)))
            names.append(against.name)
        for card in cards:
            scored = service.backtest(session, outcomes=outcomes, card=card)
            reports.append(report(card.label if card else _label(service.all_scorecards()), scored))
            names.append(card.label if card else "shipped")
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in reports], indent=2))
        return
    typer.echo("\n\n".join(_describe(r) for r in reports))
    if len(reports) > 1:
        typer.echo("\nside by side:\n" + side_by_side(reports, names))


def _label(cards) -> str:  # type: ignore[no-untyped-def]
    return ", ".join(c.label for c in sorted(cards, key=lambda c: c.name))


def _describe(r) -> str:  # type: ignore[no-untyped-def]
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    auc = "n/a (needs churners and renewals)" if r.auc is None else f"{r.auc:.3f}"
    return (f"{r.scorecard}: {r.scored} of {r.outcomes} outcomes scored, {r.churned} churned\n"
            f"  AUC (churners ranked below the others): {auc}\n"
            f"  red band: {r.red} accounts, precision {pct(r.red_precision)}, catches {pct(r.red_recall)} of churners\n"
            f"  churners green 90 days before: {r.churners_green_before} of {r.churners_scored_before} scored then"
            + (f"\n  unknown (too little data for a band, ranked by their provisional score): {r.unknown}"
               if r.unknown else ""))


@health_app.command("override")
def override(account: str = ACCOUNT_ARG,
             band: str = typer.Option(None, help="the band to put in force (red, yellow, green)"),
             reason: str = typer.Option(None, help="why (shown beside the band)"),
             days: int = typer.Option(30, min=1, max=366, help="how many days it holds, then it lapses by itself"),
             clear: bool = typer.Option(False, "--clear", help="remove the override: the computed band is back"),
             email: str = AS_OPTION) -> None:
    """Set (or --clear) the account's band by hand, as PUT /api/accounts/{id}/health/override: its CSM, a
    manager or an admin."""
    from datetime import timedelta

    from journey import db
    from journey.health import scores, service
    from journey.kit import utcnow

    if not clear and (not band or not reason):
        raise typer.BadParameter("give --band and --reason (or --clear)")
    now = utcnow()
    with refusals(), db.transaction() as session:
        member = acting_member(session, email)
        acc = account_in_book(session, account, member)
        if clear:
            service.clear_band_override(session, account=acc, member=member, now=now)
        else:
            held = service.override_band(session, account=acc, member=member, band=band.strip().lower(),
                                         reason=reason, expires_on=now.date() + timedelta(days=days), now=now)
        health = scores.account_health(session, account_id=acc.id, now=now)
    if clear:
        typer.echo(f"{acc.name}: override removed; band {health['band']} ({health['score']:.0f}/100)")
    else:
        typer.echo(f"{acc.name}: band {held.band} until {held.expires_on} (computed {health['computed_band']}, "
                   f"{health['score']:.0f}/100)")
