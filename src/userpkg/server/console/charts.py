"""Charts drawn by us as SVG geometry: members over time and the expand funnel of SPEC §7.

Only numbers leave here; the templates draw them, so nothing a brand supplied reaches the SVG
unescaped and no script or style attribute is needed (the CSP forbids both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

FINISHED = "USER_PACKAGE_PROCESS_STATE_FINISHED"
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    members: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: list[Point]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _parse(when: str) -> datetime:
    return datetime.fromisoformat(when)


def _nice_step(top: int) -> int:
    """A round tick step giving about four ticks up to `top`."""
    raw = max(1, top // 4)
    magnitude: int = 10 ** (len(str(raw)) - 1)
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return int(factor * magnitude)
    return int(10 * magnitude)


def members_over_time(created: str, tasks: list[dict[str, Any]]) -> LineChart:
    """One point per finished task: members after it (the sum of `added` so far)."""
    finished = sorted(
        (t for t in tasks if t["state"] == FINISHED and t["finish_time"] and t["stats"]),
        key=lambda t: (_parse(t["finish_time"]), t["submit_time"]),
    )
    series: list[tuple[datetime, int]] = [(_parse(created), 0)]
    total = 0
    for task in finished:
        total += int(task["stats"]["added"])
        series.append((_parse(task["finish_time"]), total))
    first, last = series[0][0], series[-1][0]
    span = max((last - first).total_seconds(), 1.0)
    peak = max(total, 1)
    step = _nice_step(peak)
    top = ((peak + step - 1) // step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(when: datetime) -> float:
        return LEFT + plot_w * (when - first).total_seconds() / span

    def y_of(value: int) -> float:
        return TOP + plot_h * (1 - value / top)

    points = [Point(x_of(w), y_of(v), w.strftime("%Y-%m-%d %H:%M:%S"), v) for w, v in series]
    y_ticks = [Tick(y_of(v), f"{v:,}") for v in range(0, top + 1, step)]
    shape = "%H:%M:%S" if span < 86400 else "%Y-%m-%d %H:%M"
    x_ticks = [Tick(x_of(first), first.strftime(shape))]
    if last != first:
        x_ticks.append(Tick(x_of(last), last.strftime(shape)))
    return LineChart(WIDTH, HEIGHT, points, y_ticks, x_ticks)


@dataclass(frozen=True)
class Stage:
    name: str
    count: int
    width: float
    dropped: int
    why: str


def funnel(stats: dict[str, int], full_width: float = 300.0) -> list[Stage]:
    """lines → non-blank → well-formed → matched → distinct → added, with what each step lost."""
    lines = stats["lines"]
    non_blank = lines - stats["blank"]
    well_formed = non_blank - stats["malformed"]
    matched = stats["matched"]
    distinct = matched - stats["duplicates"]
    added = stats["added"]
    steps = [
        ("lines", lines, 0, ""),
        ("non-blank", non_blank, stats["blank"], "blank"),
        ("well-formed", well_formed, stats["malformed"], "malformed"),
        ("matched", matched, stats["unrecognised"], "unrecognised"),
        ("distinct", distinct, stats["duplicates"], "duplicates"),
        ("added", added, stats["already_members"], "already members"),
    ]
    scale = full_width / max(lines, 1)
    return [
        Stage(name, count, max(count * scale, 1.0 if count else 0.0), dropped, why)
        for name, count, dropped, why in steps
    ]
