"""The weekly review on the team page: its tables as rows (shown, and exported as CSV) and its 12-week
charts. Pure: it reads the dict `journey.kpis.reads.weekly` returns."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from journey.kpis.reads import KPIS
from journey.web.charts import SeriesChart, series_chart
from journey.words import money

TABLES = ("kpis", "money", "people", "pipeline", "attention", "history")


def fmt(value: Any, unit: str = "", currency: str = "EUR") -> str:
    """53 %, €12,000, 4.5 days; — when unknown."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "money":
        return money(value, currency)
    if unit == "days":
        return f"{value:g} days"
    return f"{value:,.0f}" if isinstance(value, int | float) and abs(value) >= 1000 else f"{value:g}"


def signed(value: float | None, unit: str = "", currency: str = "EUR") -> str:
    """A week-over-week change: +€12,000, −2 days; a percentage's change in percentage points (−0.5 pts)."""
    if value is None:
        return "—"
    if value == 0:
        return "no change"
    if unit == "%":
        size = f"{abs(value):.1f} pts" if abs(value) < 1 else f"{abs(value):.0f} pts"  # not "−0 pts"
    else:
        size = fmt(abs(value), unit, currency)
    return ("+" if value > 0 else "−") + size


def rows(view: dict[str, Any], table: str, currency: str = "EUR", *,
         plain: bool = False) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one table of the review, as words and formatted numbers; money in `currency`
    (named in the headers of money columns too, so an exported CSV says it). `plain` (the CSV export): bare
    numbers a spreadsheet can add up (190000, 69, -0.5), every unit in a header or a Unit column instead."""
    code = currency.upper()
    cell = (lambda v, unit: _plain(v)) if plain else (lambda v, unit: fmt(v, unit, currency))
    change = (lambda v, unit: _plain(v, sign=True)) if plain else (lambda v, unit: signed(v, unit, currency))

    def unit_of(unit: str) -> str:
        return code if unit == "money" else {"%": "%" if plain else "", "days": "days" if plain else ""}.get(unit, "")

    def named(label: str, unit: str) -> str:
        shown = unit_of(unit)
        return f"{label} ({shown})" if shown else label

    if table in ("kpis", "money"):
        header = ["KPI", "Unit", "This week", "Last week", "Change"] if plain else ["KPI", "This week", "Last week",
                                                                                   "Change"]
        return header, [
            [k["label"], *([unit_of(k["unit"])] if plain else []), cell(k["value"], k["unit"]),
             cell(k["last_week"], k["unit"]), change(k["change"], k["unit"])]
            for k in view[table]]
    if table == "people":
        header = ["Name", "Role", "Accounts", *(named(label, unit) for _, label, unit in KPIS),
                  f"ARR at risk ({code})", f"ARR at risk change ({code})"]
        return header, [[p["name"], p["role"].upper(), str(p["accounts"]),
                         *(cell(p[key]["value"], unit) for key, _, unit in KPIS),
                         cell(p["arr_at_risk"]["value"], "money"), change(p["arr_at_risk"]["change"], "money")]
                        for p in view["people"]]
    if table == "pipeline":
        return ["Account", "Opportunity", "Stage", f"Amount ({code})", "Raised"], [
            [o["name"], o["title"], o["stage"].capitalize(), cell(o["amount"], "money"), o["source"]]
            for o in view["pipeline"]]
    if table == "attention":
        return ["Account", "Band", "Score", "Reason"], [
            [a["name"], a["band"].replace("_", " ").capitalize(), str(a["score"]), a["reason"]]
            for a in view["attention"]]
    if table == "history":
        keys = [*KPIS, ("arr_at_risk", "ARR at risk", "money")]
        weeks = [w for w, _ in view["history"][keys[0][0]]]
        return ["Week starting", *(named(label, unit) for _, label, unit in keys)], [
            [w.isoformat(), *(cell(view["history"][key][i][1], unit) for key, _, unit in keys)]
            for i, w in enumerate(weeks)]
    raise ValueError(table)


def _plain(value: Any, *, sign: bool = False) -> str:
    """A number as a spreadsheet reads it: no separators, no symbol; empty when unknown."""
    if value is None:
        return ""
    text = f"{round(value, 1):g}" if isinstance(value, float) else str(value)
    return f"+{text}" if sign and value > 0 else text


def to_csv(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """CSV a spreadsheet opens safely: a cell starting with = + - @ is quoted as text (no formula runs)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in [header, *body]:
        writer.writerow([f"'{c}" if c[:1] in ("=", "@") or (c[:1] in ("+", "-") and not _number(c)) else c
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
