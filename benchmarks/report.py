"""Markdown report: figures side by side, budget lines with PASS/OVER, profile by area.

Budgets are information, never assertions: a quick run prints ``n/a`` for every
timing budget because a few calls measure nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from benchmarks.configurations import label
from benchmarks.measure import Spread, paired
from benchmarks.profiling import Profile
from benchmarks.runner import IN_MEMORY, MIB, Matrix, Results

COMMAND = ".venv/bin/python -m benchmarks"
RATIO_BUDGET = 1.05
SHARE_BUDGET = 0.5
RSS_SLACK = 2 * MIB
OBJECT_SLACK = 500


def render(results: Results) -> str:
    lines = [
        "# opentelemetry-instrumentation-wecom overhead benchmark",
        "",
    ]
    if results.plan.quick:
        lines += [
            "**QUICK RUN: a smoke test of the harness; its figures are not measurements.**",
            "",
        ]
    lines += _machine(results)
    for matrix in results.matrices:
        lines += _matrix_table(matrix, f"{matrix.title}: POST message/send, small JSON, `.json()`")
    if results.in_flight is not None:
        lines += _matrix_table(
            results.in_flight, f"{results.in_flight.title}: POST message/send, asyncio.gather"
        )
    lines += _bodies(results.bodies)
    lines += _callbacks(results.callbacks)
    lines += _chains(results.chains)
    lines += _memory(results)
    lines += _series(results)
    lines += [
        "## Budgets (information, not assertions)",
        "",
        *(f"- {line}" for line in budgets(results)),
        "",
    ]
    lines += _profiles(results)
    lines += [f"Total run time: {results.seconds:.0f} s.", ""]
    return "\n".join(lines)


def _machine(results: Results) -> list[str]:
    plan = results.plan
    lines = ["## Machine and method", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in results.machine.items()]
    lines += [
        "",
        f"Command: `{COMMAND}{' --quick' if plan.quick else ''}`. Rounds interleave the "
        f"configurations (rotated each round); {plan.rounds} rounds x {plan.calls} calls for the "
        f"(a)-(d) tables, {plan.warmup} warm-up calls after each switch. CPU is the client "
        "process's `process_time()` per call (the server runs in its own process); medians "
        "over rounds with the interquartile range in brackets. Ratios and added CPU are paired "
        "per round against (a), then the median is taken.",
        "",
    ]
    return lines


def _spread(spread: Spread, digits: int = 0) -> str:
    return f"{spread.median:.{digits}f} [{spread.q1:.{digits}f}-{spread.q3:.{digits}f}]"


def _matrix_table(matrix: Matrix, title: str) -> list[str]:
    baseline = matrix.samples["a"]
    lines = [
        f"## {title}",
        "",
        f"{matrix.rounds} rounds x {matrix.calls} calls per configuration.",
        "",
        "| Configuration | CPU µs/call | wall µs/call | CPU ratio to (a) "
        "| added CPU µs/call | spans/call |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, samples in matrix.samples.items():
        ratio = "1.00" if key == "a" else _spread(paired(samples, baseline, ratio=True), 3)
        added = "0" if key == "a" else _spread(paired(samples, baseline, ratio=False), 1)
        lines.append(
            f"| {label(samples.config, matrix.library)} | {_spread(Spread.of(samples.cpu_us))} "
            f"| {_spread(Spread.of(samples.wall_us))} | {ratio} | {added} "
            f"| {samples.spans_per_call:g} |"
        )
    return [*lines, ""]


def _bodies(bodies: list[Matrix]) -> list[str]:
    if not bodies:
        return []
    lines = [
        "## Response bodies: httpx GET, body read, not parsed (a) vs (c)",
        "",
        "From the server over loopback, then from an in-memory transport (no socket, the same "
        "bytes object every call), which leaves only the instrumentation's own cost in (c) - (a).",
        "",
        "| Body | calls/round x rounds | (a) CPU µs/call | (c) CPU µs/call | (c)/(a) CPU "
        "| added CPU µs/call |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for matrix in bodies:
        bare, wecom = matrix.samples["a"], matrix.samples["c"]
        lines.append(
            f"| {matrix.title} | {matrix.calls} x {matrix.rounds} "
            f"| {_spread(Spread.of(bare.cpu_us))} "
            f"| {_spread(Spread.of(wecom.cpu_us))} | {_spread(paired(wecom, bare, ratio=True), 3)} "
            f"| {_spread(paired(wecom, bare, ratio=False), 1)} |"
        )
    return [*lines, ""]


def _callbacks(matrices: list[Matrix]) -> list[str]:
    if not matrices:
        return []
    lines = [
        "## Callback middleware: a WeCom callback into the app, in-process",
        "",
        "The WSGI / ASGI app is called directly (no server, no socket): a Flask view and a "
        "Starlette route that check the signature and decrypt the event, as a real callback "
        "endpoint does. (c) - (a) is the middleware's own cost.",
        "",
        "| Request | Configuration | CPU µs/call | CPU ratio to (a) | added CPU µs/call "
        "| spans/call |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for matrix in matrices:
        baseline = matrix.samples["a"]
        for key, samples in matrix.samples.items():
            ratio = "1.00" if key == "a" else _spread(paired(samples, baseline, ratio=True), 3)
            added = "0" if key == "a" else _spread(paired(samples, baseline, ratio=False), 1)
            lines.append(
                f"| {matrix.title} | ({key}) {samples.config.label} "
                f"| {_spread(Spread.of(samples.cpu_us))} | {ratio} | {added} "
                f"| {samples.spans_per_call:g} |"
            )
    return [*lines, ""]


def _chains(chains: list[Matrix]) -> list[str]:
    if not chains:
        return []
    lines = [
        "## Retry chains and member windows: (c) with them, (e) without",
        "",
        "(e) is (c) with `retry_window=0, max_tracked_members=0`; (c) - (e) is what the retry "
        "chains, the person-times count and the silent-discard windows cost per call.",
        "",
        "| Workload | calls/round x rounds | (a) CPU µs/call | (e) CPU µs/call | (c) CPU µs/call "
        "| (c) - (e) CPU µs/call | (c)/(e) CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for matrix in chains:
        bare, plain, full = matrix.samples["a"], matrix.samples["e"], matrix.samples["c"]
        lines.append(
            f"| {matrix.title} | {matrix.calls} x {matrix.rounds} "
            f"| {_spread(Spread.of(bare.cpu_us))} | {_spread(Spread.of(plain.cpu_us))} "
            f"| {_spread(Spread.of(full.cpu_us))} | {_spread(paired(full, plain, ratio=False), 1)} "
            f"| {_spread(paired(full, plain, ratio=True), 3)} |"
        )
    return [*lines, ""]


def _memory(results: Results) -> list[str]:
    if not results.memory:
        return []
    lines = [
        "## Memory under (c), httpx message/send",
        "",
        "| calls | RSS MiB | live Python objects |",
        "|---:|---:|---:|",
    ]
    for checkpoint in results.memory:
        rss = "n/a" if checkpoint.rss_bytes is None else f"{checkpoint.rss_bytes / MIB:.1f}"
        lines.append(f"| {checkpoint.calls:,} | {rss} | {checkpoint.live_objects:,} |")
    return [*lines, ""]


def _series(results: Results) -> list[str]:
    series = results.series
    if series is None:
        return []
    return [
        "## Metric series after junk paths",
        "",
        f"{series.paths:,} calls to distinct unknown paths `/cgi-bin/junk/pathN` with "
        f"`max_apis={series.max_apis}`: `wecom.client.duration` has **{series.series}** series "
        f"({series.api_values} distinct `wecom.api` values), "
        f"{series.calls_recorded:,} calls recorded.",
        "",
    ]


def budgets(results: Results) -> list[str]:
    """One line per budget, ending in PASS, OVER or n/a."""
    quick = results.plan.quick
    lines = []
    for matrix in results.matrices:
        bare = matrix.samples["a"]
        stock = paired(matrix.samples["b"], bare, ratio=False).median
        wecom = paired(matrix.samples["c"], bare, ratio=False).median
        share = wecom / stock if stock > 0 else float("inf")
        floor = ""
        if "floor" in matrix.samples:
            floor_cost = paired(matrix.samples["floor"], bare, ratio=False).median
            floor = f" (the SDK floor adds {floor_cost:.1f})"
        lines.append(
            f"{matrix.title}: (c) adds {wecom:.1f} µs/call, (b) adds {stock:.1f}{floor}: "
            f"(c) is {share:.2f} of (b)'s cost (budget <= {SHARE_BUDGET}): "
            f"{_verdict(share <= SHARE_BUDGET, quick)}"
        )
    for matrix in results.bodies:
        if "10 MB" not in matrix.title or IN_MEMORY in matrix.title:
            continue
        ratio = paired(matrix.samples["c"], matrix.samples["a"], ratio=True).median
        lines.append(
            f"{matrix.title}: (c)/(a) CPU {ratio:.3f} (budget <= {RATIO_BUDGET}): "
            f"{_verdict(ratio <= RATIO_BUDGET, quick)}"
        )
    if len(results.memory) >= 2:
        first, last = results.memory[0], results.memory[-1]
        objects = last.live_objects - first.live_objects
        rss = None
        if first.rss_bytes is not None and last.rss_bytes is not None:
            rss = last.rss_bytes - first.rss_bytes
        flat = objects <= OBJECT_SLACK and (rss is None or rss <= RSS_SLACK)
        rss_text = "n/a" if rss is None else f"{rss / MIB:+.1f} MiB"
        lines.append(
            f"memory from {first.calls:,} to {last.calls:,} calls: RSS {rss_text}, live objects "
            f"{objects:+,} (flat: <= {RSS_SLACK // MIB} MiB and <= {OBJECT_SLACK} objects): "
            f"{_verdict(flat, quick)}"
        )
    if results.series is not None:
        bound = results.series.max_apis + 1
        lines.append(
            f"series after {results.series.paths:,} junk paths: {results.series.series} "
            f"(budget <= max_apis + 1 for `_OTHER` = {bound}): "
            f"{_verdict(results.series.series <= bound, False)}"
        )
    return lines


def _verdict(ok: bool, quick: bool) -> str:
    if quick:
        return "n/a (quick run)"
    return "PASS" if ok else "OVER"


def _profiles(results: Results) -> list[str]:
    lines = []
    for library, (bare, wecom) in results.profiles.items():
        lines += _profile(library, bare, wecom)
    return lines


def _profile(library: str, bare: Profile, wecom: Profile) -> list[str]:
    areas = list(dict.fromkeys([*wecom.areas_us, *bare.areas_us]))
    lines = [
        f"## cProfile, {library} message/send, {wecom.calls:,} calls (µs/call under the profiler)",
        "",
        "| Code area | (a) bare | (c) WeCom | (c) - (a) |",
        "|---|---:|---:|---:|",
    ]
    for area in areas:
        before, after = bare.areas_us.get(area, 0.0), wecom.areas_us.get(area, 0.0)
        lines.append(f"| {area} | {before:.1f} | {after:.1f} | {after - before:+.1f} |")
    lines += [
        f"| **total** | {bare.total_us:.1f} | {wecom.total_us:.1f} "
        f"| {wecom.total_us - bare.total_us:+.1f} |",
        "",
        "Instrumentation functions with the most own time under (c):",
        "",
        "| function | own µs/call | cumulative µs/call | calls |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| `{name}` | {own:.2f} | {cumulative:.2f} | {calls:,} |"
        for name, own, cumulative, calls in wecom.top
    ]
    return [*lines, ""]


def as_json(results: Results) -> dict[str, Any]:
    """Everything measured, for ``--json`` (configurations flattened to their keys)."""

    def convert(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                field.name: convert(getattr(value, field.name))
                for field in dataclasses.fields(value)
            }
        if isinstance(value, dict):
            return {str(key): convert(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(item) for item in value]
        return value

    data: dict[str, Any] = convert(results)
    data["budgets"] = budgets(results)
    return data
