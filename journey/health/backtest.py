"""Back-test a scorecard against known outcomes: pure metrics, no database.

For each past outcome (account, date, renewed / churned / expanded) the caller scores the account as of
that date and 90 days before. A good scorecard ranks churners below the others (AUC near 1), its red
band holds mostly churners (precision), and few churners were still green 90 days before they left.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

OutcomeKind = Literal["renewed", "churned", "expanded"]
ALIASES = {"account": ("account", "account_id", "account_ref"), "date": ("date", "on", "outcome_date", "at"),
           "outcome": ("outcome", "result", "status")}


@dataclass(frozen=True)
class Outcome:
    line: int
    account: str
    on: date
    outcome: OutcomeKind

    @property
    def churned(self) -> bool:
        return self.outcome == "churned"


@dataclass(frozen=True)
class Scored:
    outcome: Outcome
    score: float | None
    band: str | None
    score_before: float | None  # 90 days before the outcome
    band_before: str | None


@dataclass(frozen=True)
class Report:
    scorecard: str
    outcomes: int
    scored: int
    churned: int
    auc: float | None
    red: int
    red_precision: float | None
    red_recall: float | None
    churners_green_before: int
    churners_scored_before: int
    unknown: int = 0  # scored, but with too little data for a band (ranked by their provisional score)


def parse_outcomes(text: str) -> tuple[list[Outcome], list[str]]:
    """Rows of `account,date,outcome`; problems with their line numbers (the good rows are kept)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {key: next((h for h in (reader.fieldnames or []) if h.strip().lower() in names), None)
               for key, names in ALIASES.items()}
    missing = [k for k, v in columns.items() if v is None]
    if missing:
        return [], [f"line 1: missing column(s) {', '.join(missing)} (expected account,date,outcome)"]
    rows, problems = [], []
    for line, row in enumerate(reader, start=2):
        account = (row[columns["account"]] or "").strip()  # type: ignore[index]
        kind = (row[columns["outcome"]] or "").strip().lower()  # type: ignore[index]
        try:
            on = date.fromisoformat((row[columns["date"]] or "").strip()[:10])  # type: ignore[index]
        except ValueError:
            problems.append(f"line {line}: date {row[columns['date']]!r} is not YYYY-MM-DD")  # type: ignore[index]
            continue
        if kind not in ("renewed", "churned", "expanded"):
            problems.append(f"line {line}: outcome {kind!r} is not renewed, churned or expanded")
            continue
        if not account:
            problems.append(f"line {line}: no account")
            continue
        rows.append(Outcome(line, account, on, kind))  # type: ignore[arg-type]
    return rows, problems


def auc(churner_scores: Sequence[float], retained_scores: Sequence[float]) -> float | None:
    """Probability that a churner scores below a retained account (ties count half); None without both.

    Mann-Whitney from ranks: sort once, give tied scores their mean rank, and the retained accounts' rank
    sum less its minimum is the number of (churner, retained) pairs the retained account wins. n log n,
    where comparing every pair was n x m."""
    if not churner_scores or not retained_scores:
        return None
    tagged = sorted([(s, 0) for s in churner_scores] + [(s, 1) for s in retained_scores])
    rank_sum, i = 0.0, 0
    while i < len(tagged):
        j = i
        while j < len(tagged) and tagged[j][0] == tagged[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2  # ranks i+1 .. j share their mean
        rank_sum += mean_rank * sum(kind for _, kind in tagged[i:j])
        i = j
    n_retained = len(retained_scores)
    return (rank_sum - n_retained * (n_retained + 1) / 2) / (len(churner_scores) * n_retained)


def report(scorecard: str, scored: Sequence[Scored], *, red_band: str = "red", green_band: str = "green") -> Report:
    known = [s for s in scored if s.score is not None]
    churners = [s for s in known if s.outcome.churned]
    retained = [s for s in known if not s.outcome.churned]
    red = [s for s in known if s.band == red_band]
    red_churners = [s for s in red if s.outcome.churned]
    before = [s for s in scored if s.outcome.churned and s.band_before is not None]
    return Report(
        scorecard=scorecard, outcomes=len(scored), scored=len(known), churned=len(churners),
        auc=auc([s.score for s in churners], [s.score for s in retained]),  # type: ignore[misc]
        red=len(red), red_precision=len(red_churners) / len(red) if red else None,
        red_recall=len(red_churners) / len(churners) if churners else None,
        churners_green_before=sum(1 for s in before if s.band_before == green_band),
        churners_scored_before=len(before), unknown=sum(1 for s in known if s.band == "unknown"))


def side_by_side(reports: Sequence[Report], names: Sequence[str]) -> str:
    """The reports' figures in columns, the first (the older cards) first: AUC, red band, unknown, churners
    green 90 days before."""
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    rows = [("", list(names)),
            ("AUC", ["n/a" if r.auc is None else f"{r.auc:.3f}" for r in reports]),
            ("red precision / recall", [f"{pct(r.red_precision)} / {pct(r.red_recall)}" for r in reports]),
            ("unknown (too little data)", [f"{r.unknown} of {r.scored}" for r in reports]),
            ("churners green 90 days before", [f"{r.churners_green_before} of {r.churners_scored_before}"
                                               for r in reports])]
    width = max(len(label) for label, _ in rows) + 2
    columns = [max(len(row[1][i]) for row in rows) + 2 for i in range(len(reports))]
    return "\n".join(label.ljust(width) + "".join(v.ljust(w) for v, w in zip(values, columns, strict=True)).rstrip()
                     for label, values in rows)
