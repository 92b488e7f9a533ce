"""The stored source: Prometheus for what, how much and since when; Jaeger for examples.

Each kind of data is one range query over the whole grid (baseline + window), summed by the
labels the engine reasons on, so the number of queries does not grow with the number of APIs,
services or processes: 13 per diagnosis. Only the documented metric names are read
(docs/telemetry.md, the collector's self-metrics), never recording rules, so any Prometheus
that stores what the bundled collector exports answers.

Counters become per-step deltas on the server: ``C - (C offset step or C * 0)``. A series that
appears in the middle of the range (a process's first 60020) contributes its whole first value
instead of being missed as ``increase()`` would miss it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Final, Optional

from opentelemetry.instrumentation.wecom.diagnosis._endpoints import jaeger_url, prometheus_url
from opentelemetry.instrumentation.wecom.diagnosis._jaeger import JaegerClient
from opentelemetry.instrumentation.wecom.diagnosis._metric_names import (
    BUCKETS,
    CALLS,
    DISCARDED,
    RECIPIENTS,
    SECONDS,
)
from opentelemetry.instrumentation.wecom.diagnosis._model import TraceView
from opentelemetry.instrumentation.wecom.diagnosis._prometheus import PrometheusClient, Sample
from opentelemetry.instrumentation.wecom.diagnosis._source import (
    CallKey,
    CallSeries,
    CollectorHealth,
    DiscardSeries,
    Grid,
    Instance,
    LatencySeries,
    RecipientSeries,
    TraceQuery,
)

#: The collector's self-metrics; their names end in ``_total`` or not, by collector version.
EXPORTED: Final = (
    "otelcol_exporter_(sent|send_failed|enqueue_failed)_(spans|metric_points|log_records)(_total)?"
)
RECEIVER_REFUSED: Final = "otelcol_receiver_refused_(spans|metric_points|log_records)(_total)?"
#: Scrape jobs that belong to the telemetry pipeline rather than to an app.
PIPELINE_JOBS: Final = "(?i).*(otelcol|collector|jaeger|tempo).*"
#: How late data reaches Prometheus with the bundled settings: the SDK's 60 s metric export
#: interval, the collector's 1 s batch and Prometheus' 15 s scrape interval.
DEFAULT_LAG: Final = 76.0


def quote(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def delta(selector: str, step: float, name_label: Optional[str] = None) -> str:
    """Per-series increase over each step, counting a series' first sample in full.

    ``name_label`` copies ``__name__`` into a label first, for selectors that match several
    metric names (binary operators drop the name and would collide).
    """
    offset = f"{selector} offset {_duration(step)}"
    if name_label is not None:
        current = f'label_replace({selector}, "{name_label}", "$1", "__name__", "(.+)")'
        offset = f'label_replace({offset}, "{name_label}", "$1", "__name__", "(.+)")'
    else:
        current = selector
    return f"({current} - ({offset} or {current} * 0))"


def _duration(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def _by_service(service: Optional[str]) -> str:
    return f"job={quote(service)}" if service is not None else ""


class StoredSource:
    """Prometheus at ``prometheus`` and Jaeger at ``jaeger`` (see ``_endpoints`` for defaults).

    ``lag`` is how many seconds the newest data trails the clock; the default suits the
    bundled collector and Prometheus with the SDK's default 60 s metric export interval.
    """

    def __init__(
        self,
        prometheus: Optional[str] = None,
        jaeger: Optional[str] = None,
        timeout: float = 10.0,
        lag: float = DEFAULT_LAG,
    ) -> None:
        self.prometheus = PrometheusClient(prometheus_url(prometheus), timeout)
        self.jaeger = JaegerClient(jaeger_url(jaeger), timeout)
        self._lag = lag
        self.trace_searches = 0
        self.traces_fetched = 0

    def locations(self) -> Mapping[str, str]:
        return {"metrics": self.prometheus.url, "traces": self.jaeger.url}

    def lag(self) -> float:
        return self._lag

    def notes(self) -> Sequence[str]:
        return ()

    def services(self) -> Sequence[str]:
        return sorted(self.prometheus.label_values("job", CALLS))

    def _range(self, promql: str, grid: Grid) -> list[Sample]:
        return self.prometheus.query_range(promql, grid.start + grid.step, grid.end, grid.step)

    def _rows(
        self, samples: Sequence[Sample], grid: Grid, clamp: bool = True
    ) -> list[tuple[dict[str, str], list[float]]]:
        """Each series as a list aligned to the grid (0 where it has no value)."""
        rows = []
        for labels, points in samples:
            row = grid.zeros()
            for moment, value in points:
                index = round((moment - grid.start) / grid.step) - 1
                if 0 <= index < grid.count and math.isfinite(value):
                    # A counter reset without a new instance id loses that step's calls.
                    row[index] = max(0.0, value) if clamp else value
            rows.append((labels, row))
        return rows

    def calls(self, service: Optional[str], grid: Grid) -> Sequence[CallSeries]:
        selector = f"{CALLS}{{{_by_service(service)}}}"
        promql = (
            "sum by (job, instance, wecom_api, wecom_status, wecom_errcode, error_type) "
            f"{delta(selector, grid.step)}"
        )
        out = []
        for labels, row in self._rows(self._range(promql, grid), grid):
            errcode = labels.get("wecom_errcode")
            key = CallKey(
                service=labels.get("job", ""),
                instance=labels.get("instance", ""),
                api=labels.get("wecom_api", "_OTHER"),
                status=labels.get("wecom_status", "ok"),
                errcode=_int(errcode),
                error_type=labels.get("error_type"),
            )
            out.append(CallSeries(key, tuple(row)))
        return out

    def latency(self, service: Optional[str], grid: Grid) -> Sequence[LatencySeries]:
        where = _by_service(service)
        buckets = f"sum by (wecom_api, le) {delta(f'{BUCKETS}{{{where}}}', grid.step)}"
        seconds = f"sum by (wecom_api) {delta(f'{SECONDS}{{{where}}}', grid.step)}"
        with ThreadPoolExecutor(max_workers=2) as pool:
            bucket_rows = pool.submit(self._range, buckets, grid)
            second_rows = pool.submit(self._range, seconds, grid)
            cumulative: dict[str, dict[float, list[float]]] = defaultdict(dict)
            for labels, row in self._rows(bucket_rows.result(), grid):
                bound = _bound(labels.get("le"))
                if bound is not None:
                    cumulative[labels.get("wecom_api", "_OTHER")][bound] = row
            sums = {
                labels.get("wecom_api", "_OTHER"): row
                for labels, row in self._rows(second_rows.result(), grid)
            }
        out = []
        for api, by_bound in cumulative.items():
            bounds = tuple(sorted(by_bound))
            steps = []
            for index in range(grid.count):
                running = [by_bound[bound][index] for bound in bounds]
                steps.append(
                    tuple(
                        max(0.0, running[j] - (running[j - 1] if j else 0.0))
                        for j in range(len(bounds))
                    )
                )
            out.append(LatencySeries(api, bounds, tuple(steps), tuple(sums.get(api, grid.zeros()))))
        return out

    def recipients(self, service: Optional[str], grid: Grid) -> Sequence[RecipientSeries]:
        selector = f"{RECIPIENTS}{{{_by_service(service)}}}"
        promql = f"sum by (wecom_api, wecom_recipient_kind) {delta(selector, grid.step)}"
        return [
            RecipientSeries(
                labels.get("wecom_api", "_OTHER"),
                labels.get("wecom_recipient_kind", "unknown"),
                tuple(row),
            )
            for labels, row in self._rows(self._range(promql, grid), grid)
        ]

    def discards(self, service: Optional[str], grid: Grid) -> Sequence[DiscardSeries]:
        selector = f"{DISCARDED}{{{_by_service(service)}}}"
        promql = f"sum by (wecom_api, wecom_message_limit) {delta(selector, grid.step)}"
        return [
            DiscardSeries(
                labels.get("wecom_api", "_OTHER"), labels.get("wecom_message_limit", ""), tuple(row)
            )
            for labels, row in self._rows(self._range(promql, grid), grid)
        ]

    def instances(self, service: Optional[str], grid: Grid) -> Sequence[Instance]:
        seconds = round(grid.count * grid.step)
        promql = (
            "max by (job, instance, service_version, host_name) "
            f"(last_over_time(target_info{{{_by_service(service)}}}[{seconds}s]))"
        )
        return [
            Instance(
                labels.get("job", ""),
                labels.get("instance", ""),
                labels.get("service_version"),
                labels.get("host_name"),
            )
            for labels, _ in self.prometheus.query(promql, grid.end)
        ]

    def collector(self, grid: Grid) -> CollectorHealth:
        step = grid.step
        queries = {
            "exported": "sum by (job, exporter, name) "
            f"{delta(f'{{__name__=~{quote(EXPORTED)}}}', step, 'name')}",
            "refused": "sum by (job, receiver, name) "
            f"{delta(f'{{__name__=~{quote(RECEIVER_REFUSED)}}}', step, 'name')}",
            "queue": "max by (exporter) (otelcol_exporter_queue_size)",
            "probe": 'max by (http_url) (httpcheck_status{http_status_class=~"2xx|3xx|4xx"})',
            "down": f"min by (job) (up{{job=~{quote(PIPELINE_JOBS)}}})",
        }
        with ThreadPoolExecutor(max_workers=len(queries) + 1) as pool:
            futures = {name: pool.submit(self._range, q, grid) for name, q in queries.items()}
            capacity = pool.submit(
                self.prometheus.query,
                "max by (exporter) (otelcol_exporter_queue_capacity)",
                grid.end,
            )
            rows = {name: self._rows(f.result(), grid, clamp=False) for name, f in futures.items()}
            capacities = {
                labels.get("exporter", "?"): points[0][1] for labels, points in capacity.result()
            }
        sent = [
            (labels, row) for labels, row in rows["exported"] if "_sent_" in labels.get("name", "")
        ]
        failed = [
            (labels, row)
            for labels, row in rows["exported"]
            if "_failed_" in labels.get("name", "")
        ]
        return CollectorHealth(
            observed=True,
            failed=_named(failed, "exporter"),
            sent=_sum_by(sent, "exporter"),
            refused=_named(rows["refused"], "receiver"),
            queue={
                labels.get("exporter", "?"): _present(row, grid, raw)
                for (labels, row), raw in zip(rows["queue"], futures["queue"].result())
            },
            queue_capacity=capacities,
            probe={
                labels.get("http_url", "?"): tuple(
                    None if value is None else value >= 1 for value in _present(row, grid, raw)
                )
                for (labels, row), raw in zip(rows["probe"], futures["probe"].result())
            },
            down={
                labels.get("job", "?"): tuple(
                    value is not None and value < 1 for value in _present(row, grid, raw)
                )
                for (labels, row), raw in zip(rows["down"], futures["down"].result())
            },
        )

    def traces(self, query: TraceQuery) -> Sequence[TraceView]:
        self.trace_searches += 1
        found = self.jaeger.find_traces(
            query.service,
            datetime.fromtimestamp(query.start, tz=timezone.utc),
            datetime.fromtimestamp(query.end, tz=timezone.utc),
            dict(query.tags),
            query.limit,
        )
        self.traces_fetched += len(found)
        return found


def _int(text: Optional[str]) -> Optional[int]:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _bound(text: Optional[str]) -> Optional[float]:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _named(
    rows: Sequence[tuple[dict[str, str], list[float]]], label: str
) -> dict[str, tuple[float, ...]]:
    """Rows keyed by ``label`` plus the metric's signal (``otlp_grpc/jaeger spans``)."""
    out: dict[str, list[float]] = {}
    for labels, row in rows:
        signal = labels.get("name", "").split("_failed_")[-1].split("_refused_")[-1]
        signal = signal.removesuffix("_total").replace("_", " ")
        key = f"{labels.get(label, '?')} ({labels.get('job', '?')}, {signal})"
        target = out.setdefault(key, [0.0] * len(row))
        for index, value in enumerate(row):
            target[index] += max(0.0, value)
    return {key: tuple(row) for key, row in out.items()}


def _sum_by(
    rows: Sequence[tuple[dict[str, str], list[float]]], label: str
) -> dict[str, tuple[float, ...]]:
    out: dict[str, list[float]] = {}
    for labels, row in rows:
        target = out.setdefault(labels.get(label, "?"), [0.0] * len(row))
        for index, value in enumerate(row):
            target[index] += max(0.0, value)
    return {key: tuple(row) for key, row in out.items()}


def _present(row: Sequence[float], grid: Grid, sample: Sample) -> tuple[Optional[float], ...]:
    """A gauge row with None where the series had no value."""
    have = {round((moment - grid.start) / grid.step) - 1 for moment, _ in sample[1]}
    return tuple(row[i] if i in have else None for i in range(grid.count))
