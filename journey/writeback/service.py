"""Use cases of the CRM write-back: mark what changed (in the caller's transaction), resend, note a CRM edit.

`mark_changed` is the one call a change point makes: it costs one query and one upsert, whatever the
number of accounts, and writes nothing to a CRM. The drainer (`journey.writeback.drain`) sends later.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from journey import audit
from journey.adapters.crm.mapping import VENDORS, mapping_for
from journey.adapters.crm.write_mapping import WriteBack
from journey.audit import Actor
from journey.config import Settings, get_settings
from journey.errors import NotFound
from journey.kit import utcnow
from journey.writeback import domain, repository


def credentials_set(vendor: str, settings: Settings) -> bool:
    if vendor == "hubspot":
        return bool(settings.hubspot_access_token)
    if vendor == "salesforce":
        return bool(settings.salesforce_client_id and settings.salesforce_client_secret
                    and settings.salesforce_instance_url)
    return bool(settings.pipedrive_api_token)


def enabled_crms(settings: Settings | None = None) -> dict[str, WriteBack]:
    """The CRMs journey writes to: credentials set, `write_back.enabled` and at least one property mapped."""
    settings = settings or get_settings()
    found = {}
    for vendor in VENDORS:
        if not credentials_set(vendor, settings):
            continue
        write_back = mapping_for(vendor, settings.templates_dir).write_back
        if write_back.enabled and write_back.objects:
            found[vendor] = write_back
    return found


def mark_changed(session: Session, *, account_ids: Sequence[int] | int, now: datetime | None = None) -> int:
    """Something an account's CRM records show may have moved: queue one coalesced write per record.

    Call it from the change points (health store, plan, packet, reviews) in their transaction; a row already
    waiting keeps its turn, so a burst of changes is one write. Returns the records marked."""
    ids = [account_ids] if isinstance(account_ids, int) else sorted(set(account_ids))
    crms = enabled_crms()
    if not ids or not crms:
        return 0
    refs = [r for r in repository.crm_objects(session, ids, crms) if r.object_type in crms[r.crm].objects]
    repository.mark(session, refs, now=now or utcnow())
    return len(refs)


def resend(session: Session, *, write_id: int, now: datetime) -> None:
    """A dead write back in the queue, due now (after the cause was fixed: a property created, a token...)."""
    if not repository.revive(session, row_id=write_id, now=now):
        raise NotFound(f"no dead CRM write {write_id}")


def note_crm_edit(session: Session, *, crm: str, object_type: str, object_id: str, seen: dict[str, Any],
                  who: str | None) -> list[str]:
    """A person changed journey's own properties in the CRM: record it in the account's activity and queue
    the write that restores journey's values (`sent_values` now hold what the CRM shows). The properties
    edited; none when the CRM shows what journey wrote (or journey never wrote to this record)."""
    row = repository.sent_values_of(session, crm=crm, object_type=object_type, object_id=object_id)
    changes = domain.edited(seen, row.sent_values or {}) if row is not None else {}
    if row is None or not changes:
        return []
    row.sent_values = {**(row.sent_values or {}), **changes}
    audit.record(session, actor=Actor.crm(crm), action="crm.field_edited", account_id=row.account_id,
                 subject=f"{object_type} {object_id}", fields=sorted(changes), by=who,
                 note="journey's properties are journey's: its next write restores them")
    repository.mark(session, [repository.ObjectRef(crm, object_type, object_id, row.account_id, row.deal_id)],
                    now=utcnow())
    return sorted(changes)
