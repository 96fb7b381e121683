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


def rows(view: dict[str, Any], table: str, currency: str = "EUR") -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one table of the review, as words and formatted numbers; money in `currency`
    (named in the headers of money columns too, so an exported CSV says it)."""
    code = currency.upper()
    if table in ("kpis", "money"):
        return ["KPI", "This week", "Last week", "Change"], [
            [k["label"], fmt(k["value"], k["unit"], currency),
             fmt(k["last_week"], k["unit"], currency), signed(k["change"], k["unit"], currency)]
            for k in view[table]]
    if table == "people":
        named = [label + (f" ({code})" if unit == "money" else "") for _, label, unit in KPIS]
        header = ["Name", "Role", "Accounts", *named, f"ARR at risk ({code})", f"ARR at risk change ({code})"]
        return header, [[p["name"], p["role"].upper(), str(p["accounts"]),
                         *(fmt(p[key]["value"], unit, currency) for key, _, unit in KPIS),
                         fmt(p["arr_at_risk"]["value"], "money", currency),
                         signed(p["arr_at_risk"]["change"], "money", currency)]
                        for p in view["people"]]
    if table == "pipeline":
        return ["Account", "Opportunity", "Stage", f"Amount ({code})", "Raised"], [
            [o["name"], o["title"], o["stage"].capitalize(), fmt(o["amount"], "money", currency), o["source"]]
            for o in view["pipeline"]]
    if table == "attention":
        return ["Account", "Band", "Score", "Reason"], [
            [a["name"], a["band"].replace("_", " ").capitalize(), str(a["score"]), a["reason"]]
            for a in view["attention"]]
    if table == "history":
        keys = [*KPIS, ("arr_at_risk", "ARR at risk", "money")]
        weeks = [w for w, _ in view["history"][keys[0][0]]]
        return ["Week starting", *(label + (f" ({code})" if unit == "money" else "") for _, label, unit in keys)], [
            [w.isoformat(), *(fmt(view["history"][key][i][1], unit, currency) for key, _, unit in keys)]
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
