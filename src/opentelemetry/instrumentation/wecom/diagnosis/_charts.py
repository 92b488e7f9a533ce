"""Small inline SVG charts of one API's series: no script, no font, no external reference.

Each chart is a self-describing ``<svg role="img">`` with a ``<title>`` (what it shows, its
peak) for screen readers; colours come from the page's CSS classes, so the report's light and
dark themes apply. Time runs along the diagnosis window; shaded bands mark finding windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import Callable, Optional

WIDTH = 280
HEIGHT = 76
_TOP = 14  # room for the peak label
_BOTTOM = 14  # room for the time labels
_LEFT = 2
_RIGHT = 2


@dataclass(frozen=True)
class Band:
    """A shaded time range on a chart (a finding's window), labelled for the reader."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class Chart:
    """One metric of one API: ``values[i]`` at unix time ``timestamps[i]`` (None: no data)."""

    title: str
    timestamps: Sequence[float]
    values: Sequence[Optional[float]]
    style: str  # "line" or "bars"
    css_class: str
    label: Callable[[float], str]


def render(chart: Chart, start: float, end: float, bands: Sequence[Band] = ()) -> str:
    span = max(end - start, 1e-9)
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    known = [v for v in chart.values if v is not None]
    peak = max(known, default=0.0)
    scale = peak if peak > 0 else 1.0

    def x(moment: float) -> float:
        return _LEFT + max(0.0, min(1.0, (moment - start) / span)) * plot_w

    def y(value: float) -> float:
        return _TOP + plot_h - (value / scale) * plot_h

    parts = [
        f'<svg class="chart {escape(chart.css_class)}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(_description(chart, peak, known))}</title>",
    ]
    for band in bands:
        left, right = x(band.start), x(band.end)
        parts.append(
            f'<rect class="band" x="{left:.1f}" y="{_TOP}" width="{max(1.5, right - left):.1f}"'
            f' height="{plot_h}"><title>{escape(band.label)}</title></rect>'
        )
    baseline = _TOP + plot_h
    parts.append(
        f'<line class="axis" x1="{_LEFT}" y1="{baseline}" x2="{WIDTH - _RIGHT}" y2="{baseline}"/>'
    )
    if chart.style == "bars":
        parts += _bars(chart, x, y, baseline, plot_w)
    else:
        parts += _lines(chart, x, y)
    parts += [
        f'<text class="peak" x="{_LEFT}" y="10">{escape(_peak_text(chart, peak, known))}</text>',
        f'<text class="tick" x="{_LEFT}" y="{HEIGHT - 2}">{_clock(start)}</text>',
        f'<text class="tick" x="{WIDTH - _RIGHT}" y="{HEIGHT - 2}" text-anchor="end">'
        f"{_clock(end)}</text>",
        "</svg>",
    ]
    return "".join(parts)


def _bars(
    chart: Chart,
    x: Callable[[float], float],
    y: Callable[[float], float],
    baseline: float,
    plot_w: float,
) -> list[str]:
    steps = max(1, len(chart.timestamps))
    width = max(1.0, plot_w / steps * 0.8)
    parts = []
    for moment, value in zip(chart.timestamps, chart.values):
        if not value:
            continue
        top = y(value)
        parts.append(
            f'<rect class="bar" x="{x(moment) - width:.1f}" y="{top:.1f}" width="{width:.1f}"'
            f' height="{max(0.5, baseline - top):.1f}"/>'
        )
    return parts


def _lines(chart: Chart, x: Callable[[float], float], y: Callable[[float], float]) -> list[str]:
    """A polyline per run of known values (a gap where a step had no data)."""
    runs: list[list[str]] = [[]]
    for moment, value in zip(chart.timestamps, chart.values):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x(moment):.1f},{y(value):.1f}")
    parts = []
    for run in runs:
        if len(run) == 1:
            cx, cy = run[0].split(",")
            parts.append(f'<circle class="dot" cx="{cx}" cy="{cy}" r="1.8"/>')
        elif run:
            parts.append(f'<polyline class="line" points="{" ".join(run)}"/>')
    return parts


def _description(chart: Chart, peak: float, known: Sequence[float]) -> str:
    if not known:
        return f"{chart.title}: no data in this window"
    return f"{chart.title}: peak {chart.label(peak)}, {len(known)} steps with data"


def _peak_text(chart: Chart, peak: float, known: Sequence[float]) -> str:
    if not known:
        return "no data"
    return f"peak {chart.label(peak)}" if peak else "all 0"


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%H:%M")
