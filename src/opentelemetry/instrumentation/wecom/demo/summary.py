"""What the demo found, computed from the exported telemetry, as a JSON-ready dict.

Calls, error rates and latency percentiles per API come from the ``wecom.client.duration``
histogram (the same series Prometheus stores); partial failures and trace ids from the spans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from opentelemetry.sdk.metrics.export import HistogramDataPoint, MetricsData

from opentelemetry.instrumentation.wecom._attributes import (
    DURATION_METRIC,
    WECOM_API,
    WECOM_ERRCODE,
    WECOM_STATUS,
)
from opentelemetry.instrumentation.wecom.demo.points import points
from opentelemetry.instrumentation.wecom.demo.telemetry import CallRecorder
from opentelemetry.instrumentation.wecom.errcodes import explain

TOP_ERRCODES = 5


@dataclass
class _ApiStats:
    calls: int = 0
    errors: int = 0
    errcodes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    bounds: Sequence[float] = ()
    buckets: list[int] = field(default_factory=list)
    maximum: float = 0.0

    def add(self, point: HistogramDataPoint, errcode: Optional[int], ok: bool) -> None:
        self.calls += point.count
        if not ok:
            self.errors += point.count
        if errcode is not None:
            self.errcodes[errcode] += point.count
        if not self.buckets:
            self.bounds = tuple(point.explicit_bounds)
            self.buckets = [0] * len(point.bucket_counts)
        for index, count in enumerate(point.bucket_counts):
            self.buckets[index] += count
        self.maximum = max(self.maximum, point.max)


def percentile(bounds: Sequence[float], buckets: Sequence[int], maximum: float, q: float) -> float:
    """Estimate the ``q`` quantile from histogram buckets, as PromQL's histogram_quantile does
    (linear within a bucket), but capped by the observed maximum instead of +Inf."""
    total = sum(buckets)
    if total == 0:
        return 0.0
    rank = q * total
    seen = 0
    for index, count in enumerate(buckets):
        if count and seen + count >= rank:
            lower = bounds[index - 1] if index > 0 else 0.0
            upper = bounds[index] if index < len(bounds) else maximum
            upper = min(upper, maximum)
            lower = min(lower, upper)
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
    return maximum


def summarize(data: Optional[MetricsData], recorder: CallRecorder) -> dict[str, Any]:
    """The summary: totals, one row per API (busiest first), the top errcodes explained."""
    apis: dict[str, _ApiStats] = defaultdict(_ApiStats)
    for point in points(data, DURATION_METRIC, HistogramDataPoint):
        attributes = point.attributes or {}
        errcode = attributes.get(WECOM_ERRCODE)
        apis[str(attributes.get(WECOM_API))].add(
            point,
            errcode if isinstance(errcode, int) else None,
            attributes.get(WECOM_STATUS) == "ok",
        )
    rows = [_api_row(api, stats, recorder) for api, stats in apis.items()]
    rows.sort(key=lambda row: (-row["calls"], row["api"]))
    calls = sum(row["calls"] for row in rows)
    errors = sum(row["errors"] for row in rows)
    return {
        "calls": calls,
        "errors": errors,
        "error_rate": _rate(errors, calls),
        "partial_failures": sum(recorder.partial_failures.values()),
        "apis": rows,
        "top_errcodes": _top_errcodes(apis, recorder),
        "failed_trace_ids": sorted({t for ids in recorder.trace_ids.values() for t in ids}),
    }


def _api_row(api: str, stats: _ApiStats, recorder: CallRecorder) -> dict[str, Any]:
    return {
        "api": api,
        "calls": stats.calls,
        "errors": stats.errors,
        "error_rate": _rate(stats.errors, stats.calls),
        "partial_failures": recorder.partial_failures.get(api, 0),
        "p50_ms": round(1000 * percentile(stats.bounds, stats.buckets, stats.maximum, 0.50), 1),
        "p95_ms": round(1000 * percentile(stats.bounds, stats.buckets, stats.maximum, 0.95), 1),
        "errcodes": {str(code): count for code, count in sorted(stats.errcodes.items())},
    }


def _top_errcodes(apis: dict[str, _ApiStats], recorder: CallRecorder) -> list[dict[str, Any]]:
    counts: dict[int, int] = defaultdict(int)
    where: dict[int, set[str]] = defaultdict(set)
    for api, stats in apis.items():
        for code, count in stats.errcodes.items():
            if code != 0:
                counts[code] += count
                where[code].add(api)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_ERRCODES]
    rows = []
    for code, count in top:
        info = explain(code)
        rows.append(
            {
                "errcode": code,
                "count": count,
                "apis": sorted(where[code]),
                "meaning": info.meaning,
                "remediation": info.remediation,
                "category": info.category,
                "retryable": info.retryable,
                "query_url": info.query_url,
                "trace_ids": list(recorder.trace_ids.get(code, [])),
            }
        )
    return rows


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
