"""Write the audit trail: every change with its actor (user, CRM, flow, scheduler, CLI)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from journey.kit import utcnow
from journey.models import ActorKind, AuditEntry


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str

    @classmethod
    def flow(cls, name: str) -> Actor:
        return cls(ActorKind.flow, name)

    @classmethod
    def crm(cls, source: str) -> Actor:
        return cls(ActorKind.crm, source)

    @classmethod
    def user(cls, email: str) -> Actor:
        return cls(ActorKind.user, email)


def record(session: Session, *, actor: Actor, action: str, account_id: int | None = None,
           subject: str | None = None, **details: Any) -> None:
    """One entry, written now by a cached INSERT (an ORM object would cost a unit-of-work flush of its own)."""
    session.execute(insert(AuditEntry.__table__), [  # type: ignore[arg-type]
        {"at": utcnow(), "actor_kind": actor.kind, "actor": actor.label, "action": action, "account_id": account_id,
         "subject": subject, "details": details}])


def record_many(session: Session, *, actor: Actor, action: str, account_id: int | None,
                entries: list[tuple[str | None, dict[str, Any]]]) -> None:
    """One action on many subjects of one account, (subject, details) each, in one multi-row INSERT."""
    record_for_accounts(session, actor=actor, action=action,
                        entries=[(account_id, subject, details) for subject, details in entries])


def record_for_accounts(session: Session, *, actor: Actor, action: str,
                        entries: list[tuple[int | None, str | None, dict[str, Any]]]) -> None:
    """One action on many accounts, (account_id, subject, details) each, in one executemany INSERT (a batch
    recompute's band changes: one statement, not one per account)."""
    if not entries:
        return
    at = utcnow()
    session.execute(insert(AuditEntry.__table__), [
        {"at": at, "actor_kind": actor.kind, "actor": actor.label, "action": action, "account_id": account_id,
         "subject": subject, "details": details} for account_id, subject, details in entries])
