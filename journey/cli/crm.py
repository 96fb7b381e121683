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


@crm_app.command("setup")
def setup(crm: str = typer.Argument(..., help="hubspot, salesforce or pipedrive")) -> None:
    """Create journey's properties in the CRM (HubSpot: the `journey` group and its properties, idempotent;
    Pipedrive: the custom fields, whose keys are printed for templates/crm/pipedrive.yaml), or, for
    Salesforce, print the custom fields to create and check them with a describe call."""
    from journey.adapters.crm import crm_setup
    from journey.adapters.crm.http import CrmApiError
    from journey.adapters.crm.mapping import mapping_for
    from journey.adapters.crm.write_mapping import VALUES
    from journey.config import get_settings
    from journey.writeback import writers

    settings = get_settings()
    if crm not in ("hubspot", "salesforce", "pipedrive"):
        typer.echo(f"unknown CRM {crm!r}: hubspot, salesforce or pipedrive", err=True)
        raise typer.Exit(2)
    write_back = mapping_for(crm, settings.templates_dir).write_back
    try:
        if crm == "hubspot":
            _setup_hubspot(settings, write_back, crm_setup, writers)
        elif crm == "pipedrive":
            _setup_pipedrive(settings, write_back, crm_setup, writers, VALUES)
        else:
            _setup_salesforce(settings, write_back, crm_setup, writers)
    except CrmApiError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    finally:
        _discover(crm, write_back)


def _discover(crm: str, write_back) -> None:  # type: ignore[no-untyped-def]
    """Ask the CRM who journey is there (its echo is then recognised without any setting) and say so."""
    from journey.kit import utcnow
    from journey.writeback import identity, writers

    writer = writers.writers_from_settings({crm: write_back}).get(crm)
    if writer is None:
        return
    try:
        found = identity.learn(crm, writer, utcnow(), again=True)
    finally:
        writer.close()
    setting = "JOURNEY_" + identity.OVERRIDES[crm].upper()
    if identity.configured(crm):
        typer.echo(f"{identity.WHAT[crm]}: {found} (from {setting})")
    elif found:
        typer.echo(f"discovered {identity.WHAT[crm]}: {found} (kept; {setting} overrides it)")
    else:
        typer.echo(f"could not discover the {identity.WHAT[crm]}: set {setting} so journey knows its own "
                   "changes coming back")


def _require(value: str | None, name: str) -> str:
    if not value:
        typer.echo(f"set {name} first", err=True)
        raise typer.Exit(1)
    return value


def _setup_hubspot(settings, write_back, crm_setup, writers) -> None:  # type: ignore[no-untyped-def]
    from journey.adapters.crm.hubspot import HubSpotApi

    api = HubSpotApi(base_url=settings.hubspot_api_base, transport=writers.transports.get("hubspot"),
                     token=_require(settings.hubspot_access_token, "JOURNEY_HUBSPOT_ACCESS_TOKEN"))
    try:
        for line in crm_setup.setup_hubspot(api, write_back):
            typer.echo(line)
    finally:
        api.close()


def _setup_pipedrive(settings, write_back, crm_setup, writers, values) -> None:  # type: ignore[no-untyped-def]
    from journey.adapters.crm.pipedrive import PipedriveApi

    api = PipedriveApi(base_url=settings.pipedrive_api_base, transport=writers.transports.get("pipedrive"),
                       token=_require(settings.pipedrive_api_token, "JOURNEY_PIPEDRIVE_API_TOKEN"))
    try:
        keys = crm_setup.setup_pipedrive(api, list(values), ("deal", "company"))
    finally:
        api.close()
    typer.echo("# paste under write_back: in templates/crm/pipedrive.yaml (deal and organization fields have "
               "keys of their own)")
    typer.echo("write_back:\n  fields:")
    for object_type, name in (("deal", "deal"), ("company", "organization")):
        if keys.get(object_type):
            typer.echo(f"    {name}:")
            for value, key in keys[object_type].items():
                typer.echo(f"      {value}: {key}")


def _setup_salesforce(settings, write_back, crm_setup, writers) -> None:  # type: ignore[no-untyped-def]
    from journey.adapters.crm.salesforce_writer import SalesforceWriter

    typer.echo("Create these custom fields (Setup > Object Manager > Fields & Relationships), then run this again:")
    for sobject, name, kind in crm_setup.salesforce_fields(write_back):
        typer.echo(f"  {sobject:12} {name:34} {kind}")
    if not (settings.salesforce_instance_url and settings.salesforce_client_id and settings.salesforce_client_secret):
        typer.echo("(set JOURNEY_SALESFORCE_CLIENT_ID, _CLIENT_SECRET and _INSTANCE_URL to check them)")
        return
    writer = SalesforceWriter(instance_url=settings.salesforce_instance_url, client_id=settings.salesforce_client_id,
                              client_secret=settings.salesforce_client_secret,
                              api_version=settings.salesforce_api_version,
                              transport=writers.transports.get("salesforce"))
    try:
        missing = crm_setup.check_salesforce(writer, write_back)
    finally:
        writer.close()
    if missing:
        typer.echo("missing: " + ", ".join(missing))
        raise typer.Exit(1)
    typer.echo("all fields are there")
