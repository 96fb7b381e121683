"""CRM notifications about journey's own properties: our echo starts nothing, a person's edit is undone.

Called by the CRM flow's steps before anything else reads the notification (`flows/crm_steps.py`).
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from journey.adapters.crm import echoes
from journey.config import get_settings
from journey.models import InboundEvent
from journey.writeback import identity, service

ECHO = "journey's own write-back coming back from the CRM: nothing to do"
ONLY_OURS = "only journey's own properties changed"


def observe(session: Session, event: InboundEvent) -> echoes.Observation | None:
    """What the notification says about journey's properties, or None (not about them, or no write-back).

    journey's own id in the CRM is the one learned from it (`identity`), or the setting that overrides it."""
    settings = get_settings()
    write_back = service.enabled_crms(settings).get(event.source)
    if write_back is None:
        return None
    payload: Any = json.loads(event.payload)
    properties = write_back.properties()
    ours = identity.integration_id(session, event.source)
    if event.source == "hubspot":
        return echoes.hubspot(payload, properties, app_id=ours)
    if event.source == "salesforce":
        return echoes.salesforce(payload, properties, integration_user=ours)
    if event.source == "pipedrive":
        return echoes.pipedrive(payload, properties, integration_user=ours)
    return None


def skip_reason(session: Session, event: InboundEvent) -> str | None:
    """Why the notification must start nothing (our echo, or only journey's fields changed), else None."""
    seen = observe(session, event)
    if seen is None:
        return None
    if seen.echo:
        return ECHO
    return ONLY_OURS if seen.only_journey else None


def handle(session: Session, event: InboundEvent) -> str | None:
    """Like :func:`skip_reason`, and a person's edit of journey's properties is recorded and undone."""
    seen = observe(session, event)
    if seen is None:
        return None
    if seen.echo:
        return ECHO
    restored = service.note_crm_edit(session, crm=event.source, object_type=seen.object_type,
                                     object_id=seen.object_id, seen=seen.seen, who=seen.who)
    note = f"{', '.join(restored)} edited in the CRM: journey writes its values back" if restored else None
    if seen.only_journey:
        return f"{ONLY_OURS}; {note}" if note else ONLY_OURS
    return None
