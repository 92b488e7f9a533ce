"""Where the per-call CPU goes: cProfile of bare (a) and WeComInstrumentor (c), by code area.

Time inside C functions (``~`` in pstats) is charged to the area of the Python
code that called them, pro rata of the time each caller spent in them, so
``time.time_ns`` called from the SDK counts for the SDK. Figures under cProfile
are wall time inflated by the profiler (a CPU-time timer would inflate them
tenfold), and blocking socket reads land in "stdlib / other": compare the
instrumentation areas with each other, not with the timings of the rounds.
"""

from __future__ import annotations

import cProfile
import pstats
from collections import defaultdict
from dataclasses import dataclass
from typing import Final, Optional

from benchmarks.configurations import BARE, WECOM, Configuration, Switch
from benchmarks.sdk import Sdk
from benchmarks.workloads import Workload

# (area, path fragment), first match wins.
AREAS: Final = (
    ("wecom instrumentation", "/opentelemetry/instrumentation/wecom/"),
    ("opentelemetry SDK", "/opentelemetry/sdk/"),
    ("opentelemetry API + instrumentation utils", "/opentelemetry/"),
    ("wrapt", "/wrapt/"),
    ("httpx / httpcore / h11", "/httpx/"),
    ("httpx / httpcore / h11", "/httpcore/"),
    ("httpx / httpcore / h11", "/h11/"),
    ("requests / urllib3", "/requests/"),
    ("requests / urllib3", "/urllib3/"),
    ("benchmark harness", "/benchmarks/"),
)
OTHER: Final = "stdlib / other"
_INSTRUMENTATION: Final = frozenset({AREAS[0][0], AREAS[1][0], AREAS[2][0], "wrapt"})

FunctionKey = tuple[str, int, str]
# pstats rows: (primitive calls, calls, own time, cumulative time, callers' rows).
Row = tuple[int, int, float, float, dict[FunctionKey, tuple[int, int, float, float]]]


@dataclass(frozen=True)
class Profile:
    config: str
    calls: int
    total_us: float
    areas_us: dict[str, float]
    top: list[tuple[str, float, float, int]]  # (function, tottime µs/call, cumtime µs/call, ncalls)


def area_of(filename: str) -> Optional[str]:
    """The code area of a file, ``None`` for C functions (charged to their callers)."""
    if filename == "~" or filename.startswith("<"):
        return None
    for area, fragment in AREAS:
        if fragment in filename:
            return area
    return OTHER


def profile(
    workload: Workload, config: Configuration, switch: Switch, sdk: Sdk, *, calls: int, top: int
) -> Profile:
    switch.enable(config, workload.library)
    try:
        workload.run(min(calls, 200))
        sdk.flush()
        profiler = cProfile.Profile()
        profiler.enable()
        workload.run(calls)
        sdk.flush()
        profiler.disable()
    finally:
        switch.disable()
    stats = pstats.Stats(profiler)
    raw: dict[FunctionKey, Row] = stats.stats  # type: ignore[attr-defined]
    return Profile(
        config=config.key,
        calls=calls,
        total_us=stats.total_tt / calls * 1e6,  # type: ignore[attr-defined]
        areas_us={area: seconds / calls * 1e6 for area, seconds in _by_area(raw).items()},
        top=_top(raw, calls, top),
    )


def _by_area(raw: dict[FunctionKey, Row]) -> dict[str, float]:
    areas: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, callers) in raw.items():
        area = area_of(filename)
        if area is not None:
            areas[area] += tottime
            continue
        area_shares = _caller_shares(callers)
        if not area_shares:
            areas[OTHER] += tottime
        for caller_area, share in area_shares.items():
            areas[caller_area] += tottime * share
    return dict(sorted(areas.items(), key=lambda item: -item[1]))


def _caller_shares(callers: dict[FunctionKey, tuple[int, int, float, float]]) -> dict[str, float]:
    """The fraction of a C function's own time spent on behalf of each caller area."""
    per_area: dict[str, float] = defaultdict(float)
    for (filename, _, _), caller_stats in callers.items():
        per_area[area_of(filename) or OTHER] += caller_stats[2]
    total = sum(per_area.values())
    return {area: time / total for area, time in per_area.items()} if total else {}


def _top(
    raw: dict[FunctionKey, Row], calls: int, count: int
) -> list[tuple[str, float, float, int]]:
    """The instrumentation functions (ours, SDK, API, wrapt) with the most own time."""
    rows = []
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in raw.items():
        area = area_of(filename)
        if area is None or area not in _INSTRUMENTATION:
            continue
        where = (
            filename.split("/opentelemetry/", 1)[-1] if "/opentelemetry/" in filename else filename
        )
        rows.append(
            (f"{where}:{line}({name})", tottime / calls * 1e6, cumtime / calls * 1e6, ncalls)
        )
    rows.sort(key=lambda row: -row[1])
    return rows[:count]


def compare(
    workload: Workload, switch: Switch, sdk: Sdk, calls: int, top: int = 25
) -> tuple[Profile, Profile]:
    """Profiles of (a) and (c) on the same workload."""
    return (
        profile(workload, BARE, switch, sdk, calls=calls, top=top),
        profile(workload, WECOM, switch, sdk, calls=calls, top=top),
    )
