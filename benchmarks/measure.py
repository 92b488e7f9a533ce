"""Interleaved rounds: client CPU and wall time per call, with the spans of each round checked.

A round runs ``calls`` calls of one workload under one configuration. Rounds
rotate through the configurations (A B C D, B C D A, ...), so slow drift of the
machine falls on all of them alike, and comparisons are made per round
(paired) before taking medians. CPU is ``time.process_time()`` of the client
process: the calling thread plus the ``BatchSpanProcessor`` worker, never the
server, which runs in its own process. Each round ends with a span flush, so
the export path is paid inside the round that produced the spans.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from benchmarks.configurations import Configuration
from benchmarks.sdk import Sdk
from benchmarks.workloads import Workload


class Switcher(Protocol):
    """Puts one configuration in place (``configurations.Switch``, ``callbacks.AppSwitch``)."""

    def enable(self, config: Configuration, library: str) -> None: ...

    def disable(self) -> None: ...


class SpanCountError(RuntimeError):
    """A configuration did not produce the spans it should: its figures would be meaningless."""


@dataclass
class Samples:
    """Per-call figures of one configuration, one value per round (microseconds)."""

    config: Configuration
    cpu_us: list[float] = field(default_factory=list)
    wall_us: list[float] = field(default_factory=list)
    spans_per_call: float = 0.0


@dataclass(frozen=True)
class Spread:
    median: float
    q1: float
    q3: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        ordered = sorted(values)
        if len(ordered) > 1:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        return cls(statistics.median(ordered), q1, q3, ordered[0], ordered[-1])


def interleaved(
    workload: Workload,
    configs: Sequence[Configuration],
    switch: Switcher,
    sdk: Sdk,
    *,
    rounds: int,
    calls: int,
    warmup: int,
) -> dict[str, Samples]:
    """Run ``rounds`` rotations of ``configs``; raise :class:`SpanCountError` on a wrong count."""
    samples = {config.key: Samples(config) for config in configs}
    for round_index in range(rounds):
        shift = round_index % len(configs)
        for config in (*configs[shift:], *configs[:shift]):
            switch.enable(config, workload.library)
            try:
                cpu, wall, spans = _round(workload, sdk, calls, warmup)
            finally:
                switch.disable()
            _check_spans(workload, config, calls, spans)
            entry = samples[config.key]
            entry.cpu_us.append(cpu / calls * 1e6)
            entry.wall_us.append(wall / calls * 1e6)
            entry.spans_per_call = sum(spans.values()) / calls
    return samples


def _round(
    workload: Workload, sdk: Sdk, calls: int, warmup: int
) -> tuple[float, float, dict[str, int]]:
    workload.run(warmup)
    sdk.flush()
    before = sdk.exporter.snapshot()
    gc.collect()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    workload.run(calls)
    sdk.flush()
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    after = sdk.exporter.snapshot()
    return cpu, wall, {scope: after[scope] - before[scope] for scope in after}


def _check_spans(
    workload: Workload, config: Configuration, calls: int, spans: dict[str, int]
) -> None:
    expected = {
        scope: count * calls for scope, count in config.spans_per_call(workload.library).items()
    }
    produced = {scope: count for scope, count in spans.items() if count}
    if produced != expected:
        raise SpanCountError(
            f"{workload.name}, configuration ({config.key}): expected spans {expected}, "
            f"got {produced} for {calls} calls"
        )


def paired(samples: Samples, baseline: Samples, *, ratio: bool) -> Spread:
    """Per-round CPU ratio (or difference) to the baseline, rounds paired in order."""
    values = [
        (value / base if ratio else value - base)
        for value, base in zip(samples.cpu_us, baseline.cpu_us)
    ]
    return Spread.of(values)
