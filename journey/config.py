"""Settings from `JOURNEY_*` environment variables (or `.env`), read once through `get_settings()`."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = {"", "changethis", "change-me", "secret", "dev"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEY_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = "sqlite:///./var/journey.db"
    data_dir: Path = Path("./var")
    secret_key: str | None = None
    webhook_secret: str | None = None
    templates_dir: Path = PROJECT_ROOT / "templates"
    public_base_url: str | None = None
    max_body_bytes: int = 1024 * 1024
    webhook_tolerance_seconds: int = 300
    demo: bool = True
    runner: bool = Field(default=True, description="run flows in-process (journey serve)")
    runner_poll_seconds: float = 0.5
    runner_batch_size: int = 50
    server_lease_seconds: float = Field(default=180, gt=0, description="server mode: how long a batch submitted to "
                                        "Prefect holds its events before another API process may re-submit them")
    scheduler: bool = Field(default=True, description="run the scheduler thread in journey serve (SQLite)")
    scheduler_interval_seconds: float = Field(default=60, gt=0, description="how often review jobs sweep")
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
    smtp_url: str | None = None
    slack_webhook_url: str | None = None
    smtp_from: str = "journey@localhost"
    outbox_max_attempts: int = 8
    log_level: str = "INFO"
    token_days: int = Field(default=90, ge=1, le=3650, description="how long a new API token works (days)")
    metrics_token: str | None = Field(default=None, description="bearer token Prometheus sends to /metrics; "
                                      "unset: /metrics answers only on a server bound to loopback")

    @field_validator("orchestrator")
    @classmethod
    def _known_orchestrator(cls, value: str) -> str:
        if value not in {"prefect", "inline"}:
            raise ValueError("JOURNEY_ORCHESTRATOR must be 'prefect' or 'inline'")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment != "development" and (self.secret_key or "") in PLACEHOLDER_SECRETS:
            raise ValueError("JOURNEY_SECRET_KEY must be set to a real secret outside development")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once into the data folder (embedded default)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
