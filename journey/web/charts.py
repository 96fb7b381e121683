"""Server-rendered charts: coordinates for an inline SVG, computed here, drawn by the template. Pure."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


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
    """One bar per factor: points earned out of the weight it carries (both in score points)."""
    bars = []
    for c in contributions:
        weight = float(c.get("weight") or 0)
        points = float(c.get("points") or 0)
        value = c.get("value")
        detail = "no data yet: its weight went to the other factors" if value is None else f"value {value:g}"
        bars.append(Bar(label=str(c.get("factor", "")).replace("_", " "), detail=detail, points=round(points, 1),
                        weight=round(weight, 1), fill=(points / weight) if weight > 0 else 0.0,
                        cost=round(weight - points, 1)))
    return bars
