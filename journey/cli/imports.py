"""`journey import ...`: bulk loads. Imports stay inside the commands so `journey --help` starts fast."""
from __future__ import annotations

from pathlib import Path

import typer

from journey.cli.groups import command_group

import_app = command_group("Bulk imports: signed deals from a CRM export, signals.")


@import_app.command("deals")
def import_deals(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV export of won deals"),
    mapping: Path = typer.Option(None, "--mapping", exists=True, dir_okay=False,
                                 help="YAML for other files: `source:`, `columns: {journey field: column}`, optionally "
                                      "`stage_column:` with `won_stages: [...]`"),
) -> None:
    """Backfill won deals (HubSpot, Salesforce, Pipedrive exports or the generic columns); run it twice safely.

    Rows whose stage is not won (by templates/crm/<vendor>.yaml, as for webhooks) are rejected with the reason."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from flows.events import process_inline  # here, not at the top: flows import Prefect (~0.8 s)
    from journey.adapters.crm.mapping import MappingError
    from journey.imports import columns, deals
    from journey.imports.csvfile import CsvFile, UnreadableFile

    console = Console(stderr=True)
    try:
        source = CsvFile.open(file)
        bound = deals.prepare(source, mapping_file=mapping)
        total = source.count()
    except (UnreadableFile, columns.LayoutError, MappingError) as exc:
        console.print("[red]error:[/] " + escape(str(exc)))
        raise typer.Exit(2) from exc
    with Progress(TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task(escape(file.name), total=total)
        summary = deals.import_deals(source, bound=bound, progress=lambda: progress.advance(task),
                                     process=process_inline)
    console.print(f"{summary.created} created, {summary.known} already known, {summary.rejected} rejected"
                  + (f", {summary.failed} failed (see journey events list --status dead)" if summary.failed else "")
                  + f"  [dim](deals addressed as crm:{summary.source}:<id>)[/]")
    if summary.rejected_rows:
        out = deals.write_rejected(source, summary)
        console.print("rejected rows and why: " + escape(str(out)))
    if summary.failed:
        raise typer.Exit(1)


@import_app.command("signals")
def import_signals(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="CSV with columns id,account,metric,value,at (as POST /api/signals)"),
) -> None:
    """Load signals in bulk (a known id is ignored, so it can run again), then rescore the accounts touched."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from journey.imports.csvfile import CsvFile, UnreadableFile
    from journey.signals.csv_import import import_signals as run

    console = Console(stderr=True)
    try:
        source = CsvFile.open(file)
        total = source.count()
    except UnreadableFile as exc:
        console.print("[red]error:[/] " + escape(str(exc)))
        raise typer.Exit(2) from exc
    with Progress(TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console) as progress:
        task = progress.add_task(escape(file.name), total=total)
        summary = run(source, progress=lambda n: progress.advance(task, n))
    for problem in summary.rejected[:50]:
        console.print(f"[yellow]{escape(file.name)} {escape(problem)}[/]")
    console.print(f"{summary.accepted} signals stored, {summary.duplicates} already known, "
                  f"{len(summary.rejected)} rejected; {len(summary.accounts)} accounts rescored")
    if summary.rejected and not summary.accepted and not summary.duplicates:
        raise typer.Exit(1)

