"""Use cases: expansion reminders for the AM and risk alerts for the CSM, written as reminders and outbox
messages in the caller's transaction (flush, never commit)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from journey.accounts.repository import members_by_id
from journey.config import get_settings
from journey.expansion import domain, repository
from journey.health import metric_repository
from journey.health import repository as health_repository
from journey.health.scores import ScoreChange
from journey.kpis import opportunities
from journey.notify import emails
from journey.notify import repository as notify_repository
from journey.notify import service as notify_service
from journey.reviews.invitations import ics_for


@lru_cache(maxsize=4)
def _rules(path: Path) -> domain.ReminderRules:
    return domain.load_rules(path) if path.exists() else domain.ReminderRules(version=1)


def reminder_rules() -> domain.ReminderRules:
    return _rules(get_settings().templates_dir / "reminders" / "expansion.yaml")


# ----------------------------------------------------------------------------------------------- risk
def raise_risk_alerts(session: Session, *, changes: Sequence[ScoreChange], now: datetime) -> int:
    """Alert the CSM of each account that turned red or fell fast (once per cool-down), and of each that
    stayed red or kept an escalation open too long (`raise_unresolved_alerts`)."""
    if not changes:
        return 0
    policy = reminder_rules().risk
    ids = [c.account_id for c in changes]
    then = health_repository.scores_days_ago(session, ids, now.date() - timedelta(days=policy.drop_days))
    accounts = repository.accounts(session, ids)
    alerts = {}
    for c in changes:
        top = c.new.top_cost
        alert = domain.risk_alert(name=accounts[c.account_id].name, old_band=c.old_band, new_band=c.new.band,
                                  score=c.new.score, then=then.get(c.account_id), today=now.date(),
                                  top_factor=top.factor if top else None, policy=policy)
        if alert is not None and accounts[c.account_id].csm_id:
            alerts[c.account_id] = alert
    raised = raise_unresolved_alerts(session, account_ids=ids, now=now)
    if not alerts:
        return raised
    last = repository.last_reminder_at(session, list(alerts), ["risk.turned_red", "risk.dropped"])
    members = members_by_id(session, {accounts[a].csm_id for a in alerts})
    pending = []
    for account_id, alert in alerts.items():
        recent = last.get((account_id, alert.kind))
        if alert.kind == "risk.dropped" and recent and now - recent < timedelta(days=policy.cooldown_days):
            continue
        account = accounts[account_id]
        pending.append(_Pending(alert.kind, members[account.csm_id], account, alert.reason,
                                f"{alert.kind}:{account_id}:{now.date().isoformat()}", tuple(policy.channels),
                                f"Health alert: {account.name}"))
    return raised + _remind_all(session, pending, now=now)


def raise_unresolved_alerts(session: Session, *, account_ids: Sequence[int], now: datetime) -> int:
    """Alert the CSM of each account red for N days or with an escalation open for N days (the state, not
    a change: a red account with an open escalation is not forgotten because its band stays), saying since
    when and why; once per cool-down. Reads the stored scores: call it after they are written."""
    policy = reminder_rules().risk
    escalations = repository.escalations_open_since(session, account_ids, now=now)
    stored = repository.stored_health(session, account_ids, band=policy.red_band, or_ids=list(escalations))
    candidates = set(escalations) | set(stored)
    if not candidates:
        return 0
    accounts = repository.accounts(session, list(candidates))
    last = repository.last_reminder_at(session, list(candidates), ["risk.unresolved"])
    members = members_by_id(session, {a.csm_id for a in accounts.values() if a.csm_id})
    pending = []
    for account_id in sorted(candidates):
        account, health, since = accounts[account_id], stored.get(account_id), escalations.get(account_id)
        recent = last.get((account_id, "risk.unresolved"))
        if account.csm_id is None or (recent and now - recent < timedelta(days=policy.unresolved.cooldown_days)):
            continue
        state = domain.RiskState(
            name=account.name, band=health.band if health else None, score=health.score if health else None,
            band_since=health.band_changed_at.date() if health and health.band_changed_at else None,
            escalation_since=since.date() if since else None,
            costs=domain.top_costs(health.contributions) if health else ())
        alert = domain.unresolved_risk(state, today=now.date(), policy=policy)
        if alert is not None:
            pending.append(_Pending(alert.kind, members[account.csm_id], account, alert.reason,
                                    f"{alert.kind}:{account_id}:{now.date().isoformat()}", tuple(policy.channels),
                                    f"Still at risk: {account.name}"))
    return _remind_all(session, pending, now=now)


# ------------------------------------------------------------------------------------------ expansion
def evaluate_rules(session: Session, *, account_ids: Sequence[int], now: datetime) -> int:
    """Raise the AM reminders whose rule fires today for these accounts; how many were new."""
    rules = reminder_rules()
    if not rules.rules or not account_ids:
        return 0
    states = account_states(session, account_ids=account_ids, now=now, rules=rules)
    accounts = repository.accounts(session, account_ids)
    last = repository.last_reminder_at(session, account_ids, [f"expansion.{r.name}" for r in rules.rules])
    members = members_by_id(session, {a.am_id for a in accounts.values() if a.am_id})
    pending, titles = [], []
    for account_id, state in states.items():
        am = members.get(accounts[account_id].am_id)
        if am is None:
            continue
        for trigger in domain.triggers(state, rules, now.date()):
            kind = f"expansion.{trigger.rule.name}"
            recent = last.get((account_id, kind))
            if trigger.cooldown and recent and now - recent < timedelta(days=trigger.rule.cooldown_days):
                continue
            pending.append(_Pending(kind, am, accounts[account_id], trigger.reason,
                                    f"{kind}:{account_id}:{trigger.period}", tuple(trigger.rule.channels),
                                    f"Expansion: {accounts[account_id].name}", trigger.details,
                                    trigger.details.get("review_id")))
            titles.append((account_id, trigger.rule.name.replace("_", " ").capitalize()))
    raised = _remind_all(session, pending, now=now)
    opportunities.raise_rule_opportunities(session, wanted=titles, now=now)
    return raised


def account_states(session: Session, *, account_ids: Sequence[int], now: datetime,
                   rules: domain.ReminderRules) -> dict[int, domain.AccountState]:
    """What the rules look at, read set-based for the batch."""
    today = now.date()
    seat_days = max((r.for_days for r in rules.rules if r.when == "seat_utilisation"), default=30)
    review_days = max((r.within_days for r in rules.rules if r.when == "review_upcoming"), default=21)
    accounts = repository.accounts(session, account_ids)
    health = health_repository.health_refs(session, account_ids)
    signals = metric_repository.metric_summaries(session, account_ids, now=now, windows=set(), horizon_days=seat_days,
                                                 metrics={"escalation_open", "objective_progress", "seats"},
                                                 stale_metrics={"escalation_open", "objective_progress", "seats"})
    objectives = health_repository.objective_signals(session, account_ids)
    seats_bought = health_repository.deal_seats(session, account_ids)
    usage = repository.seat_usage(session, account_ids, for_days=seat_days, now=now)
    reviews = repository.next_reviews(session, account_ids, today=today, until=today + timedelta(days=review_days))
    ends = repository.contract_ends(session, account_ids, today)
    holds = health_repository.contact_holds(session, account_ids, today)
    states = {}
    for account_id, account in accounts.items():
        own = signals.get(account_id, {})
        progress = own["objective_progress"].last_value if "objective_progress" in own else (
            objectives.get(account_id, {}).get("objective_progress"))
        seats = own["seats"].last_value if "seats" in own else seats_bought.get(account_id, {}).get("seats")
        score, band = health.get(account_id, (None, None))
        low, covered = usage.get(account_id, (None, 0))
        states[account_id] = domain.AccountState(
            account_id=account_id, name=account.name, band=band, score=score,
            escalation_open="escalation_open" in own and own["escalation_open"].last_value >= 0.5,
            do_not_contact=account_id in holds, objective_progress=progress, seats=seats, min_active_users=low,
            covered_days=covered, next_review=reviews.get(account_id), contract_end=ends.get(account_id))
    return states


# -------------------------------------------------------------------------------------------- sending
@dataclass(frozen=True)
class _Pending:  # a reminder a rule wants raised: written by `_remind_all` unless its dedupe key is used
    kind: str
    member: Any
    account: Any
    reason: str
    dedupe_key: str
    channels: tuple[str, ...]
    subject: str
    details: dict[str, Any] | None = None
    review_id: int | None = None


def _remind_all(session: Session, pending: Sequence[_Pending], *, now: datetime) -> int:
    """Raise a batch of reminders set-based: one read of the dedupe keys already used (a rule firing again
    renders nothing), one read of the accounts' health, the message of each new one rendered from the
    compiled template, then one multi-row insert of reminders and one of outbox messages. How many were new."""
    if not pending:
        return 0
    used = notify_repository.used_dedupe_keys(session, [p.dedupe_key for p in pending])
    fresh = [p for p in pending if p.dedupe_key not in used]
    if not fresh:
        return 0
    health = health_repository.health_refs(session, {p.account.id for p in fresh})
    items = []
    for p in fresh:
        attachments = _review_attachment(session, p.review_id, now) if p.review_id else []
        score = health.get(p.account.id)
        message = emails.render("reminder", subject=p.subject, reason=p.reason,
                                account={"id": p.account.id, "name": p.account.name},
                                health={"score": score[0], "band": score[1]} if score else None,
                                attachments=attachments,
                                attachments_note="The review's calendar invitation is attached." if attachments
                                else None)
        items.append(notify_service.Reminding(
            kind=p.kind, assignee=p.member, account_id=p.account.id, due_at=now, reason=p.reason,
            dedupe_key=p.dedupe_key, subject=p.subject, details=p.details or {}, message=message,
            channels=p.channels))
    return len(notify_service.remind_many(session, items, now=now))


def _review_attachment(session: Session, review_id: int, now: datetime) -> list[dict[str, Any]]:
    review = repository.review(session, review_id)
    if review is None:
        return []
    ics, method = ics_for(session, review=review, now=now)
    return [{"filename": f"review-{review_id}.ics", "content_type": f"text/calendar; method={method}",
             "content": ics.decode("utf-8")}]
