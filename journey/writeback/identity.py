"""Who journey is in each CRM, learned from the CRM rather than configured by hand, so that its own writes
coming back as webhooks start nothing.

Salesforce: the run-as user of the client-credentials flow (the token answer's identity URL, else
`/services/oauth2/userinfo`); HubSpot: the private app's id (the token's info); Pipedrive: the API token's
user (`/v1/users/me`). Learned by `journey crm setup <crm>` and, when still unknown, before the first
write-back; kept in `crm_identity`. The settings (JOURNEY_HUBSPOT_APP_ID, JOURNEY_SALESFORCE_INTEGRATION_USER_ID,
JOURNEY_PIPEDRIVE_INTEGRATION_USER_ID) override what was learned.
"""
from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from journey import db
from journey.adapters.crm.http import CrmApiError
from journey.adapters.crm.writer import Writer
from journey.config import Settings, get_settings
from journey.writeback import repository

log = structlog.get_logger("journey.writeback")
OVERRIDES = {"hubspot": "hubspot_app_id", "salesforce": "salesforce_integration_user_id",
             "pipedrive": "pipedrive_integration_user_id"}
WHAT = {"hubspot": "private app id", "salesforce": "integration (run-as) user id",
        "pipedrive": "API token's user id"}


def configured(crm: str, settings: Settings | None = None) -> str | None:
    name = OVERRIDES.get(crm)
    return getattr(settings or get_settings(), name) if name else None


def integration_id(session: Session, crm: str) -> str | None:
    """The id whose changes are journey's own: the setting when set, else what was learned from the CRM."""
    return configured(crm) or repository.identity(session, crm)


def learn(crm: str, writer: Writer, now: datetime, *, again: bool = False) -> str | None:
    """Ask the CRM who journey is, unless it is configured or already known (`again`: ask anyway), and keep
    the answer. Entry point: its own transactions, none held during the call. None when the CRM does not say
    (the echo is then recognised by its source alone, and the second guard still applies)."""
    if configured(crm):
        return configured(crm)
    if not again:
        with db.transaction(writer=False) as session:
            known = repository.identity(session, crm)
        if known:
            return known
    try:
        found = writer.whoami()
    except CrmApiError as exc:
        log.warning("writeback.identity_unknown", crm=crm, error=str(exc))
        return None
    if found:
        with db.transaction() as session:
            repository.save_identity(session, crm, found, now)
        log.info("writeback.identity_learned", crm=crm, integration_id=found)
    return found
