"""Settings from `JOURNEY_*` environment variables (or `.env`), read once through `get_settings()`."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from journey.files import write_private_once

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_BYTES = 32
# Values copied from examples and tutorials; compared without case. Any key containing a marker is refused too.
PLACEHOLDER_SECRETS = frozenset({"", "x", "changeme", "changethis", "change-me", "change_me", "change-this",
                                 "secret", "secret-key", "secret_key", "secretkey", "dev", "development", "test",
                                 "password", "journey", "your-secret-key", "your_secret_key", "replace-me"})
PLACEHOLDER_MARKERS = ("changeme", "change-me", "change_me", "changethis", "change-this", "replace-me",
                       "replace_me", "your-secret", "your_secret", "placeholder", "insecure", "not-secret")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEY_", env_file=".env", extra="ignore")

    environment: str = Field(default="production", description="production, or development (`make run`): "
                             "sign-in links in the log, placeholder secrets accepted, the demo allowed")
    database_url: str = "sqlite:///./var/journey.db"
    data_dir: Path = Path("./var")
    secret_key: str | None = None
    webhook_secret: str | None = None
    templates_dir: Path = PROJECT_ROOT / "templates"
    public_base_url: str | None = None
    max_body_bytes: int = 1024 * 1024
    webhook_tolerance_seconds: int = 300
    currency: str = Field(default="EUR", pattern="^[A-Za-z]{3}$", description="the workspace's currency "
                          "(ISO 4217 code): how the dashboard, its CSV exports and the account page show money")
    demo: bool = Field(default=False, description="load the demo workspace into an empty database "
                       "(development only; `make run` sets it)")
    allowed_email_domains: str = Field(default="", description="comma-separated: members the CRM names from "
                                       "these domains may sign in at once; others wait for an admin")
    runner: bool = Field(default=True, description="run flows in-process (journey serve)")
    runner_process: bool = Field(default=True, description="journey serve runs its runner in a child process "
                                 "(the webhooks' process only stores deliveries); 0: a thread of the server")
    runner_nice: int = Field(default=10, ge=0, le=19, description="the runner child's CPU niceness: its journeys, "
                             "evaluations and jobs yield the cores to the server's requests (0: same priority)")
    runner_poll_seconds: float = 0.5
    runner_batch_size: int = 200  # per flow run: Prefect's bookkeeping is per run (200 vs 50: 1,000 deals 18 s, 21 s)
    server_lease_seconds: float = Field(default=180, gt=0, description="server mode: how long a batch submitted to "
                                        "Prefect holds its events before another API process may re-submit them")
    scheduler: bool = Field(default=True, description="run the scheduler thread in journey serve (SQLite)")
    scheduler_interval_seconds: float = Field(default=60, gt=0, description="how often review jobs sweep")
    evaluate_interval_seconds: float = Field(default=0.25, gt=0, description="how often the accounts whose "
                                             "inputs moved are rescored and their rules evaluated")
    evaluate_settle_seconds: float = Field(default=0.1, ge=0, description="every account whose inputs moved is "
                                           "evaluated once nothing at all moved for this long (a burst is over); "
                                           "a burst whose batches come faster settles after twice their rhythm")
    evaluate_quiet_seconds: float = Field(default=1, ge=0, description="...while changes keep coming, an account is "
                                          "evaluated once nothing moved it for this long (a burst is one evaluation)")
    evaluate_max_wait_seconds: float = Field(default=10, ge=0, description="...or once it waited this long, "
                                             "however busy it stays")
    evaluate_inline_max_accounts: int = Field(default=20, ge=0, description="POST /api/signals evaluates up to "
                                              "this many accounts before it answers (200); more are queued (202)")
    event_max_attempts: int = 5
    upstream_max_attempts: int = Field(default=30, ge=1, description="tries of an event whose CRM API is down "
                                       "(backoff 30 s doubling to 1 h: about a day) before it is dead")
    wait_for_signed_hours: float = Field(default=24, gt=0, description="how long an update or a loss waits "
                                         "for its deal.signed before it is given up")
    orchestrator: str = Field(default="prefect", description="prefect | inline (no Prefect engine)")
    hubspot_client_secret: str | None = None
    hubspot_access_token: str | None = None
    hubspot_api_base: str = "https://api.hubapi.com"
    salesforce_org_id: str | None = None
    salesforce_path_token: str | None = None
    pipedrive_user: str | None = None
    pipedrive_password: str | None = None
    pipedrive_api_token: str | None = Field(default=None, description="optional: read deal owners and "
                                            "organisations from Pipedrive's API")
    pipedrive_api_base: str = "https://api.pipedrive.com"
    # write-back to the CRM (templates/crm/<crm>.yaml `write_back:`)
    write_back_min_interval: float = Field(default=30, ge=0, description="seconds between two writes to one "
                                           "CRM record (changes in between are coalesced)")
    hubspot_app_id: str | None = Field(default=None, description="optional: the private app's id (journey learns "
                                       "it from the token; this overrides it), to tell its own writes' echo")
    salesforce_client_id: str | None = None
    salesforce_client_secret: str | None = None
    salesforce_instance_url: str | None = Field(default=None, description="https://<domain>.my.salesforce.com")
    salesforce_api_version: str = "v62.0"
    salesforce_integration_user_id: str | None = Field(default=None, description="optional: the run-as user of "
                                                       "the client credentials flow (learned from the token; "
                                                       "this overrides it): its changes are journey's echo")
    pipedrive_integration_user_id: str | None = Field(default=None, description="optional: the API token's user "
                                                      "(learned from /v1/users/me; this overrides it): its "
                                                      "changes are journey's echo")
    smtp_url: str | None = None
    slack_webhook_url: str | None = None
    smtp_from: str = "journey@localhost"
    outbox_max_attempts: int = 8
    log_level: str = "INFO"
    log_format: str | None = Field(default=None, description="json (one JSON object a line) or console (coloured "
                                   "text); unset: console in development, json otherwise")
    token_days: int = Field(default=90, ge=1, le=3650, description="how long a new API token works (days)")
    metrics_token: str | None = Field(default=None, description="bearer token Prometheus sends to /metrics; "
                                      "unset: /metrics answers only on a server bound to loopback")

    @field_validator("orchestrator")
    @classmethod
    def _known_orchestrator(cls, value: str) -> str:
        if value not in {"prefect", "inline"}:
            raise ValueError("JOURNEY_ORCHESTRATOR must be 'prefect' or 'inline'")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("JOURNEY_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().lower()
        if value not in {"json", "console"}:
            raise ValueError("JOURNEY_LOG_FORMAT must be 'json' or 'console' (unset: console in development, "
                             "json otherwise)")
        return value

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"production", "development"}:
            raise ValueError("JOURNEY_ENVIRONMENT must be 'production' (the default) or 'development'")
        return value

    @field_validator("secret_key")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None  # `JOURNEY_SECRET_KEY=` in a compose file: generate

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"JOURNEY_PUBLIC_BASE_URL must be the address people open journey at, like "
                             f"https://journey.example.com (got {value!r})")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key is not None:
            problem = secret_key_problem(self.secret_key)
            if problem:
                raise ValueError(f"JOURNEY_SECRET_KEY {problem} in production: set {MIN_SECRET_BYTES}+ random "
                                 "bytes (python -c 'import secrets; print(secrets.token_urlsafe(48))'), or unset "
                                 "it to have one generated into the data folder")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def resolved_log_format(self) -> str:
        return self.log_format or ("console" if self.is_development else "json")

    @property
    def allowed_domains(self) -> frozenset[str]:
        return frozenset(d.strip().lower().lstrip("@") for d in self.allowed_email_domains.split(",") if d.strip())

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once into the data folder (48 random bytes, owner-only)."""
        if self.secret_key:
            return self.secret_key
        return write_private_once(self.data_dir / "secret_key", secrets.token_urlsafe(48))


def secret_key_problem(key: str) -> str | None:
    """Why `key` is not a secret (a few words), or None."""
    folded = key.strip().lower()
    if folded in PLACEHOLDER_SECRETS or any(marker in folded for marker in PLACEHOLDER_MARKERS):
        return "is a placeholder"
    if len(key.encode()) < MIN_SECRET_BYTES:
        return f"is too short ({len(key.encode())} bytes, {MIN_SECRET_BYTES} needed)"
    return None


def settings_problems() -> list[str]:
    """What is wrong with the environment's settings, one line each (empty when they load)."""
    try:
        get_settings()
    except ValidationError as exc:
        return describe(exc)
    return []


def describe(exc: ValidationError) -> list[str]:
    """Pydantic's errors about settings as one line each, naming the variable, without a traceback."""
    lines = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        loc = [str(part) for part in error.get("loc", ())]
        name = f"JOURNEY_{loc[0].upper()}" if loc else ""
        lines.append(message if not name or name in message else f"{name}: {message}")
    return lines


@lru_cache
def get_settings() -> Settings:
    return Settings()
