"""`journey health recompute` and `journey health backtest FILE.csv`."""
from __future__ import annotations

from pathlib import Path

import typer

from journey.cli.groups import command_group

health_app = command_group("Health scores: recompute, back-test a scorecard.")


@health_app.command("recompute")
def recompute(batch_size: int = typer.Option(2000, min=1, help="accounts per transaction")) -> None:
    """Rescore every account now (the scheduler does it nightly), in set-based batches; the same as
    `journey jobs run recompute_all_health`, with the batch size to choose."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from journey.audit import Actor
    from journey.health import jobs
    from journey.jobs.context import JobContext
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
             as_json: bool = typer.Option(False, "--json", help="print the report as JSON")) -> None:
    """How a scorecard would have ranked known renewals and churns: AUC, precision of the red band, churners
    still green 90 days before they left."""
    import json

    from journey import db
    from journey.health import service
    from journey.health.backtest import parse_outcomes, report
    from journey.health.scorecards import ScorecardError, load_scorecard

    outcomes, problems = parse_outcomes(file.read_text(encoding="utf-8-sig"))
    for problem in problems:
        typer.secho(f"{file}: {problem}", fg="yellow", err=True)
    try:
        cards = [load_scorecard(p) for p in scorecard or []] or [None]
    except ScorecardError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc
    reports = []
    with db.transaction(writer=False) as session:
        for card in cards:
            scored = service.backtest(session, outcomes=outcomes, card=card)
            reports.append(report(card.label if card else "shipped scorecards", scored))
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in reports], indent=2))
        return
    typer.echo("\n\n".join(_describe(r) for r in reports))


def _describe(r) -> str:  # type: ignore[no-untyped-def]
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    auc = "n/a (needs churners and renewals)" if r.auc is None else f"{r.auc:.3f}"
    return (f"{r.scorecard}: {r.scored} of {r.outcomes} outcomes scored, {r.churned} churned\n"
            f"  AUC (churners ranked below the others): {auc}\n"
            f"  red band: {r.red} accounts, precision {pct(r.red_precision)}, catches {pct(r.red_recall)} of churners\n"
            f"  churners green 90 days before: {r.churners_green_before} of {r.churners_scored_before} scored then")
