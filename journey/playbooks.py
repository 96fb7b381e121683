"""The playbooks in use: loaded once per templates directory (JOURNEY_TEMPLATES_DIR)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from journey.config import get_settings
from journey.onboarding.domain import Playbook, load_playbooks, playbook_for_segment


@lru_cache(maxsize=4)
def _playbooks(directory: Path) -> dict[str, Playbook]:
    return load_playbooks(directory)


def all_playbooks() -> dict[str, Playbook]:
    return _playbooks(get_settings().templates_dir / "playbooks")


def playbook_for(segment: str | None) -> Playbook:
    return playbook_for_segment(all_playbooks(), segment)


def playbook_named(name: str) -> Playbook:
    playbooks = all_playbooks()
    return playbooks.get(name) or playbooks["default"]
