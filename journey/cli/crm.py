"""`journey crm sync` (write journey's values to the CRM records, the backfill after connecting) and
`journey crm setup <crm>` (create journey's properties in the CRM)."""
from __future__ import annotations

import typer

from journey.cli.groups import command_group

crm_app = command_group("CRM write-back: create journey's properties, write every account's values.")


@crm_app.command("sync")
def sync(dry_run: bool = typer.Option(False, "--dry-run", help="show what would be written; write nothing"),
         account: str = typer.Option(None, "--account", help="one account: our id or crm:<source>:<external id>"),
         as_json: bool = typer.Option(False, "--json", help="print the result as JSON")) -> None:
    """Write the current values of every account (or one) to its CRM deals and companies, with a progress bar.

    Every mapped property is written again (what was last written is forgotten): this also repairs drift."""
    import json

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from journey import db
    from journey.errors import NotFound
    from journey.kit import utcnow
    from journey.writeback import drain, repository, service

    crms = service.enabled_crms()
    if not crms:
        typer.echo("no CRM to write to: set its credentials (JOURNEY_HUBSPOT_ACCESS_TOKEN, JOURNEY_SALESFORCE_"
                   "CLIENT_ID/_CLIENT_SECRET/_INSTANCE_URL, JOURNEY_PIPEDRIVE_API_TOKEN) and map its properties "
                   "under write_back: in templates/crm/<crm>.yaml", err=True)
        raise typer.Exit(1)
    with db.transaction(writer=False) as session:
        account_id = repository.account_id_by_ref(session, account) if account else None
        if account and account_id is None:
            raise NotFound(f"no account {account}")
        total = 1 if account_id else repository.count_accounts(session, crms=sorted(crms))
    with Progress(TextColumn("writing" if not dry_run else "reading"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), disable=as_json) as progress:
        task = progress.add_task("accounts", total=total)
        result = drain.sync_all(utcnow(), dry_run=dry_run, account_id=account_id,
                                progress=lambda n: progress.advance(task, n))
    if as_json:
        typer.echo(json.dumps(result, default=str))
        return
    for change in result.get("changes", []):
        props = ", ".join(f"{k}={'(clear)' if v is None else v}" for k, v in change["properties"].items())
        typer.echo(f"{change['crm']} {change['object_type']} {change['object_id']}: {props}")
    counts = ", ".join(f"{k} {v}" for k, v in result.items() if k != "changes")
    typer.echo(("would write: " if dry_run else "") + counts)
