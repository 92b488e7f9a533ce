"""Long runs under ``WeComInstrumentor``: memory after many calls, series under junk paths."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from benchmarks.configurations import WECOM, Switch
from benchmarks.sdk import Sdk, histogram_points
from benchmarks.workloads import JunkPathWorkload, Workload
from opentelemetry.instrumentation.wecom._attributes import DURATION_METRIC, WECOM_API


@dataclass(frozen=True)
class Checkpoint:
    calls: int
    rss_bytes: Optional[int]
    live_objects: int


def rss_bytes() -> Optional[int]:
    """Resident set size of this process (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def memory_checkpoints(
    workload: Workload, switch: Switch, sdk: Sdk, checkpoints: Sequence[int]
) -> list[Checkpoint]:
    """RSS and live Python objects after each cumulative call count in ``checkpoints``.

    Spans are flushed and garbage collected before each reading, so a reading
    shows what the instrumentation keeps, not what is merely queued.
    """
    results = []
    done = 0
    switch.enable(WECOM, workload.library)
    try:
        for target in checkpoints:
            workload.run(target - done)
            done = target
            sdk.flush()
            gc.collect()
            results.append(Checkpoint(done, rss_bytes(), len(gc.get_objects())))
    finally:
        switch.disable()
    return results


@dataclass(frozen=True)
class SeriesCount:
    paths: int
    max_apis: int
    series: int
    api_values: int
    calls_recorded: int


def junk_path_series(port: int, switch: Switch, paths: int, max_apis: int) -> SeriesCount:
    """Data points of the duration histogram after ``paths`` distinct unknown API paths.

    A fresh meter provider, so only these calls are counted.
    """
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    workload = JunkPathWorkload(port)
    switch.enable(WECOM, workload.library, meter_provider=meter_provider, max_apis=max_apis)
    try:
        workload.run(paths)
    finally:
        switch.disable()
        workload.close()
    points = histogram_points(reader, DURATION_METRIC)
    meter_provider.shutdown()
    return SeriesCount(
        paths=paths,
        max_apis=max_apis,
        series=len(points),
        api_values=len({attributes.get(WECOM_API) for attributes, _ in points}),
        calls_recorded=sum(count for _, count in points),
    )
