"""`journey config check`: every playbook, review cadence and packet rule, with file and line."""
from __future__ import annotations

from pathlib import Path

from journey.adapters.crm.mapping import check_mappings
from journey.config import get_settings
from journey.handoff import domain as handoff_domain
from journey.health.checks import check_health_config
from journey.onboarding.domain import PlaybookError, load_playbook
from journey.reviews.domain import parse_review_specs
from journey.webhooks.signatures import check_secret


def check_all(templates_dir: Path | None = None) -> list[str]:
    directory = (templates_dir or get_settings().templates_dir) / "playbooks"
    files = sorted(directory.glob("*.y*ml"))
    if not files:
        return [f"{directory}: no playbook found"]
    problems: list[str] = []
    names = set()
    for path in files:
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            problems.append(str(exc))
            continue
        names.add(playbook.name)
        try:
            parse_review_specs(playbook.reviews)
        except ValueError as exc:
            problems.append(f"{path}: reviews: {exc}")
        required = (playbook.packet or {}).get("required", [])
        try:
            handoff_domain.completeness(handoff_domain.PacketContent(), list(required))
        except ValueError as exc:
            problems.append(f"{path}: packet.required: {exc}")
    problems.extend(check_mappings(templates_dir or get_settings().templates_dir))
    problems.extend(check_health_config(templates_dir or get_settings().templates_dir))
    problems.extend(p for p in [check_secret(get_settings().webhook_secret)] if p)
    if files and "default" not in names:
        problems.append(f"{directory}: no playbook named 'default' (used for segments no playbook lists)")
    return problems
