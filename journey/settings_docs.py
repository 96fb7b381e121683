"""Every `JOURNEY_*` variable with its default and a one-line meaning, read from the settings class.

`journey config env-example` prints `.env.example` from it and docs/reference.md's variables table is made from
it too (scripts/gen_docs.py); tests keep both equal to what this prints, so neither can drift from the code.
A setting's meaning is its `Field(description=...)`, or failing that a line of MEANINGS below; a new setting
without either makes the tests fail.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from journey.config import PROJECT_ROOT, Settings

MEANINGS = {
    "database_url": "SQLAlchemy URL: sqlite:///path (embedded) or postgresql+psycopg://user:password@host/db",
    "data_dir": "folder of the generated secret_key and webhook_secret (and of the default SQLite database)",
    "secret_key": "signs sessions and sign-in links; unset: 48 random bytes generated into the data folder "
                  "(production refuses fewer than 32 bytes or a placeholder; same key on every host)",
    "webhook_secret": "Standard Webhooks secret (whsec_...) of POST /webhooks/events; unset: the route answers "
                      "404 (the demo of `make run` generates one into the data folder)",
    "templates_dir": "playbooks, scorecards, CRM mappings and message templates; default: the templates folder "
                     "of the installation (copy it to override)",
    "public_base_url": "the address people open journey at (https://journey.example.com); absolute links are "
                       "built from it; unset: sign-in by email is off",
    "max_body_bytes": "largest webhook or API body accepted (413 above)",
    "webhook_tolerance_seconds": "how old (or early) a signed delivery's timestamp may be",
    "runner_poll_seconds": "how often the in-process runner looks for due inbox events",
    "runner_batch_size": "inbox events per flow run (one Prefect run carries up to this many)",
    "event_max_attempts": "tries of an event that fails before it becomes a dead letter",
    "hubspot_client_secret": "HubSpot app's client secret (signature v3); enables /webhooks/hubspot",
    "hubspot_access_token": "HubSpot private app token: read deals and write journey's properties back",
    "hubspot_api_base": "HubSpot API address (tests point it at a fake)",
    "salesforce_org_id": "Salesforce org id (15 or 18 characters); with the path token enables /webhooks/salesforce",
    "salesforce_path_token": "the secret path segment of the Salesforce outbound message URL",
    "pipedrive_user": "basic-auth user Pipedrive's webhook sends; with the password enables /webhooks/pipedrive",
    "pipedrive_password": "basic-auth password Pipedrive's webhook sends",
    "pipedrive_api_base": "Pipedrive API address (tests point it at a fake)",
    "salesforce_client_id": "Salesforce connected app (client credentials flow) for the write-back",
    "salesforce_client_secret": "its client secret",
    "salesforce_api_version": "Salesforce REST API version",
    "smtp_url": "smtp://user:pass@host:587?starttls=1&from=journey@example.com (smtps:// for implicit TLS); "
                "unset: reminders are in-app only",
    "slack_webhook_url": "Slack incoming webhook for the team's notifications",
    "smtp_from": "sender address when smtp_url names none",
    "outbox_max_attempts": "tries of an email or Slack message before it is dead",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
}
SECRETS = frozenset({"secret_key", "webhook_secret", "hubspot_client_secret", "hubspot_access_token",
                     "salesforce_path_token", "pipedrive_password", "pipedrive_api_token", "salesforce_client_secret",
                     "smtp_url", "slack_webhook_url", "metrics_token"})
OTHER_VARIABLES = (  # read by what journey starts (Prefect, compose.yaml), not by the settings class
    ("PREFECT_API_URL", "", "scaled out: the Prefect server's API (http://prefect:4200/api); unset: embedded"),
    ("POSTGRES_PASSWORD", "", "compose.yaml only: the password of PostgreSQL's journey user"),
)


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str
    secret: bool


def _default(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Path):
        if value.is_absolute() and value.is_relative_to(PROJECT_ROOT):
            return str(value.relative_to(PROJECT_ROOT))  # the installation's own folder, the same everywhere
        return f"./{value}" if not value.is_absolute() and not str(value).startswith(".") else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def variables() -> list[Variable]:
    """The settings, in the class's order."""
    found = []
    for name, field in Settings.model_fields.items():
        meaning = field.description or MEANINGS.get(name)
        if not meaning:
            raise LookupError(f"JOURNEY_{name.upper()} has no meaning: give its Field a description")
        found.append(Variable(f"JOURNEY_{name.upper()}", _default(field.default), " ".join(meaning.split()),
                              name in SECRETS))
    return found


def env_example() -> str:
    lines = ["# journey's settings: every variable, commented out at its default, with what it means.",
             "# Copy to .env (read from the folder journey runs in) or /etc/journey/env (systemd's EnvironmentFile)",
             "# and uncomment what you change. Generated by `journey config env-example > .env.example`.", ""]
    for v in variables():
        lines += [f"# {v.meaning}" + (" (a secret)" if v.secret else ""), f"# {v.name}={v.default}", ""]
    lines.append("# Read by Prefect and by compose.yaml, not by journey's settings:")
    for name, default, meaning in OTHER_VARIABLES:
        lines += [f"# {meaning}", f"# {name}={default}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def markdown_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for v in variables():
        default = f"`{v.default}`" if v.default else "(unset)"
        rows.append(f"| `{v.name}` | {default} | {v.meaning.replace('|', '/')} |")
    for name, _default_value, meaning in OTHER_VARIABLES:
        rows.append(f"| `{name}` | (unset) | {meaning} |")
    return "\n".join(rows) + "\n"
