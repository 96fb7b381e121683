"""The weekly review on the team page: its tables as rows (shown, and exported as CSV) and its 12-week
charts. Pure: it reads the dict `journey.kpis.reads.weekly` returns."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from journey.kpis.reads import KPIS
from journey.web.charts import SeriesChart, series_chart

TABLES = ("kpis", "money", "people", "pipeline", "attention", "history")


def fmt(value: Any, unit: str = "") -> str:
    """53 %, 12,000, 4.5 days; — when unknown."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "money":
        return f"{value:,.0f}"
    if unit == "days":
        return f"{value:g} days"
    return f"{value:,.0f}" if isinstance(value, int | float) and abs(value) >= 1000 else f"{value:g}"


def signed(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if value == 0:
        return "no change"
    size = f"{abs(value):.1f} %" if unit == "%" and abs(value) < 1 else fmt(abs(value), unit)  # not "−0 %"
    return ("+" if value > 0 else "−") + size


def rows(view: dict[str, Any], table: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one table of the review, as words and formatted numbers."""
    if table in ("kpis", "money"):
        return ["KPI", "This week", "Last week", "Change"], [
            [k["label"], fmt(k["value"], k["unit"]), fmt(k["last_week"], k["unit"]), signed(k["change"], k["unit"])]
            for k in view[table]]
    if table == "people":
        header = ["Name", "Role", "Accounts", *(label for _, label, _ in KPIS), "ARR at risk", "ARR at risk change"]
        return header, [[p["name"], p["role"].upper(), str(p["accounts"]),
                         *(fmt(p[key]["value"], unit) for key, _, unit in KPIS),
                         fmt(p["arr_at_risk"]["value"], "money"), signed(p["arr_at_risk"]["change"], "money")]
                        for p in view["people"]]
    if table == "pipeline":
        return ["Account", "Opportunity", "Stage", "Amount", "Raised"], [
            [o["name"], o["title"], o["stage"].capitalize(), fmt(o["amount"], "money"), o["source"]]
            for o in view["pipeline"]]
    if table == "attention":
        return ["Account", "Band", "Score", "Reason"], [
            [a["name"], a["band"].replace("_", " ").capitalize(), str(a["score"]), a["reason"]]
            for a in view["attention"]]
    if table == "history":
        keys = [*KPIS, ("arr_at_risk", "ARR at risk", "money")]
        weeks = [w for w, _ in view["history"][keys[0][0]]]
        return ["Week starting", *(label for _, label, _ in keys)], [
            [w.isoformat(), *(fmt(view["history"][key][i][1], unit) for key, _, unit in keys)]
            for i, w in enumerate(weeks)]
    raise ValueError(table)


def to_csv(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """CSV a spreadsheet opens safely: a cell starting with = + - @ is quoted as text (no formula runs)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in [header, *body]:
        writer.writerow([f"'{c}" if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not _number(c)) else c
                         for c in line])
    return out.getvalue()


def _number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def charts(view: dict[str, Any]) -> list[tuple[str, SeriesChart | None]]:
    keys = [*KPIS, ("arr_at_risk", "ARR at risk", "money")]
    return [(label, series_chart(view["history"][key], unit=" %" if unit == "%" else "")) for key, label, unit in keys]
