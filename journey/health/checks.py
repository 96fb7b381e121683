"""`journey config check` for health: scorecards and reminder rules, each problem with file and line."""
from __future__ import annotations

from pathlib import Path

from journey.expansion.domain import load_rules
from journey.health.scorecards import ScorecardError, load_scorecard, load_scorecards


def check_health_config(templates_dir: Path) -> list[str]:
    directory = templates_dir / "scorecards"
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        return [f"{directory}: no scorecard found (health scores need one per stage: onboarding, adopted)"]
    problems: list[str] = []
    for path in files:
        try:
            load_scorecard(path)
        except ScorecardError as exc:
            problems.append(str(exc))
    if not problems:
        try:
            cards = load_scorecards(directory)
        except ScorecardError as exc:
            problems.append(str(exc))
        else:
            for stage in ("onboarding", "adopted"):
                if not any(c.stage == stage and not c.segments for c in cards):
                    problems.append(f"{directory}: no scorecard without segments for stage {stage!r} "
                                    "(used for every segment no card lists)")
    rules = templates_dir / "reminders" / "expansion.yaml"
    if rules.exists():
        try:
            load_rules(rules)
        except ScorecardError as exc:
            problems.append(str(exc))
    return problems
