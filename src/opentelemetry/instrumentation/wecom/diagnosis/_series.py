"""Arithmetic on per-step series: sums, spans of activity, histogram quantiles, mean and spread."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Optional


def add_into(target: list[float], values: Sequence[float]) -> None:
    for index, value in enumerate(values):
        target[index] += value


def total(values: Sequence[float], start: int = 0, stop: Optional[int] = None) -> float:
    return float(sum(values[start:stop]))


def active_steps(values: Sequence[float], start: int = 0) -> list[int]:
    """Indexes from ``start`` on where ``values`` is positive."""
    return [i for i in range(start, len(values)) if values[i] > 0]


def run_start(values: Sequence[float], first: int, gap: int) -> int:
    """Where the run of activity that reaches step ``first`` began.

    Walks back from ``first`` while activity continues with holes of at most ``gap`` steps,
    so "since when" reaches into the baseline when the problem was already there.
    """
    start, quiet = first, 0
    for index in range(first - 1, -1, -1):
        if values[index] > 0:
            start, quiet = index, 0
        else:
            quiet += 1
            if quiet > gap:
                break
    return start


def quantile(q: float, bounds: Sequence[float], counts: Sequence[float]) -> Optional[float]:
    """The ``q`` quantile of a histogram as Prometheus' ``histogram_quantile`` computes it.

    ``counts`` are per bucket (not cumulative), ``bounds`` their upper bounds with +Inf last.
    Linear interpolation inside the bucket; a quantile in the +Inf bucket is the largest
    finite bound. None when the histogram is empty.
    """
    observations = sum(counts)
    if observations <= 0:
        return None
    rank = q * observations
    cumulative = 0.0
    for index, count in enumerate(counts):
        if cumulative + count >= rank and count > 0:
            upper = bounds[index]
            if math.isinf(upper):
                return float(bounds[index - 1]) if index > 0 else None
            lower = bounds[index - 1] if index > 0 else 0.0
            return float(lower + (upper - lower) * (rank - cumulative) / count)
        cumulative += count
    finite = [b for b in bounds if not math.isinf(b)]
    return float(finite[-1]) if finite else None


def sum_buckets(rows: Iterable[Sequence[float]], width: int) -> list[float]:
    out = [0.0] * width
    for row in rows:
        add_into(out, row)
    return out


def mean_and_spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (0, 0 for no values)."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    variance = sum((value - mean) ** 2 for value in values) / len(values)
    return mean, math.sqrt(variance)


def peak_per_minute(counts: Sequence[float], step: float, start: int = 0) -> tuple[float, int]:
    """The most calls in any 60 s (a sliding window of whole steps) and the step it ends at."""
    width = max(1, round(60.0 / step))
    scale = 60.0 / (width * step)
    best, where, running = 0.0, start, 0.0
    for index in range(start, len(counts)):
        running += counts[index]
        if index - width >= start:
            running -= counts[index - width]
        if running * scale > best:
            best, where = running * scale, index
    return best, where
