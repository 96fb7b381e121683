"""Server-rendered charts: coordinates for an inline SVG, computed here, drawn by the template. Pure."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from journey.health import wording


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    band: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    path: str
    area: str
    dots: list[Dot]
    grid: list[tuple[float, str]]
    xlabels: list[tuple[float, str]]


def score_chart(history: Sequence[tuple[date, float, str]], *, width: int = 640, height: int = 200,
                left: int = 34, right: int = 12, top: int = 12, bottom: int = 26) -> LineChart | None:
    """A 0-100 score over time; None with fewer than one point. One point draws a dot only."""
    if not history:
        return None
    first, last = history[0][0], history[-1][0]
    span = max((last - first).days, 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(day: date) -> float:
        return round(left + plot_w * ((day - first).days / span if len(history) > 1 else 0.5), 1)

    def y(score: float) -> float:
        return round(top + plot_h * (1 - max(0.0, min(100.0, score)) / 100), 1)

    dots = [Dot(x(d), y(s), f"{d:%d %b}: {s:.0f}", band) for d, s, band in history]
    path = " ".join(f"{'M' if i == 0 else 'L'}{dot.x},{dot.y}" for i, dot in enumerate(dots))
    base = top + plot_h
    area = f"{path} L{dots[-1].x},{base} L{dots[0].x},{base} Z" if len(dots) > 1 else ""
    grid = [(y(v), str(v)) for v in (0, 25, 50, 75, 100)]
    ticks = _ticks(first, last)
    return LineChart(width=width, height=height, path=path if len(dots) > 1 else "", area=area, dots=dots,
                     grid=grid, xlabels=[(x(d), f"{d:%d %b}".lstrip("0")) for d in ticks])


def _ticks(first: date, last: date, count: int = 4) -> list[date]:
    if first == last:
        return [first]
    step = (last - first) / count
    return [first + step * i for i in range(count + 1)]


@dataclass(frozen=True)
class Bar:
    label: str
    detail: str
    points: float
    weight: float
    fill: float  # 0-1 of the track
    cost: float


def contribution_bars(contributions: Sequence[dict]) -> list[Bar]:  # type: ignore[type-arg]
    """One bar per factor: points earned out of the weight it carries (both in score points), with the
    factor's value in words when it has them (the plan factors: the plan card's words); what costs the
    most points first, so what hurts the score leads."""
    bars = []
    for c in contributions:
        weight = float(c.get("weight") or 0)
        points = float(c.get("points") or 0)
        value = c.get("value")
        unit = c.get("unit") or wording.guess_unit(c.get("factor", ""), c.get("metric", ""))
        detail = ("no data yet: its weight went to the other factors" if value is None
                  else c.get("detail") or wording.value_words(unit, value))  # a plan factor says it in words
        bars.append(Bar(label=c.get("label") or wording.factor_label(c.get("factor", "")), detail=detail,
                        points=round(points, 1),
                        weight=round(weight, 1), fill=(points / weight) if weight > 0 else 0.0,
                        cost=round(weight - points, 1)))
    return sorted(bars, key=lambda b: -b.cost)


@dataclass(frozen=True)
class SeriesChart:
    width: int
    height: int
    path: str
    dots: list[tuple[float, float, str]]
    grid: list[tuple[float, str]]
    xlabels: list[tuple[float, str]]


def series_chart(points: Sequence[tuple[date, float | None]], *, unit: str = "", width: int = 300, height: int = 120,
                 left: int = 54, right: int = 8, top: int = 10, bottom: int = 22) -> SeriesChart | None:
    """A weekly KPI over time (weeks without a value are gaps in the line); None when no week has one."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if not known:
        return None
    low, high = min(v for _, v in known), max(v for _, v in known)
    low, high = (min(low, 0.0), high) if high > low else (min(low, 0.0), max(high, 1.0) if high >= 0 else 0.0)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def y(v: float) -> float:
        return round(top + plot_h * (1 - (v - low) / (high - low or 1)), 1)

    dots = [(round(left + step * i, 1), y(v), f"{points[i][0]:%d %b}: {_fmt(v)}{unit}") for i, v in known]
    path, previous = "", None
    for (i, _), (x, yy, _) in zip(known, dots, strict=True):
        path += f"{'L' if previous is not None and i == previous + 1 else 'M'}{x},{yy} "
        previous = i
    grid = [(y(v), _fmt(v)) for v in (low, (low + high) / 2, high)]
    xlabels = [(round(left + step * i + (18 if i == 0 else -18), 1), f"{points[i][0]:%d %b}".lstrip("0"))
               for i in (0, len(points) - 1)]
    return SeriesChart(width, height, path.strip(), dots, grid, xlabels)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{round(v, 1):g}"
