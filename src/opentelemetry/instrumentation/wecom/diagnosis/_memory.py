"""The in-memory source: a diagnosis from the spans one process kept, without any backend.

:class:`SpanKeeper` is a span processor that keeps a bounded number of finished spans;
:class:`MemorySource` answers the engine from them. One WeCom span is one call (the same call
the ``wecom.client.duration`` histogram counts), so calls, errcodes, latencies and dropped
recipients per step all come from the spans, and the example traces are the spans' own
traces. ``wecom-otel demo`` diagnoses its incident this way.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Optional

from opentelemetry.sdk.metrics.export import HistogramDataPoint, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from opentelemetry.instrumentation.wecom._attributes import (
    DURATION_BUCKETS,
    DURATION_METRIC,
    ERROR_TYPE,
    WECOM_API,
    WECOM_ERRCODE,
    WECOM_MESSAGE_DISCARDED,
    WECOM_MESSAGE_INVALID_PREFIX,
    WECOM_STATUS,
)
from opentelemetry.instrumentation.wecom.diagnosis._evidence import matches
from opentelemetry.instrumentation.wecom.diagnosis._model import TraceView
from opentelemetry.instrumentation.wecom.diagnosis._otlp import traces_from_spans
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

#: Spans a :class:`SpanKeeper` keeps by default (the oldest go first).
DEFAULT_MAX_SPANS: Final = 50_000
_BOUNDS: Final = (*DURATION_BUCKETS, float("inf"))


class SpanKeeper(SpanProcessor):
    """Keeps the last ``max_spans`` finished spans of a process for :class:`MemorySource`.

    Add it to a ``TracerProvider`` (``provider.add_span_processor(SpanKeeper())``). Memory is
    bounded: past ``max_spans`` the oldest spans are forgotten and counted in ``dropped``.
    """

    def __init__(self, max_spans: int = DEFAULT_MAX_SPANS) -> None:
        self._spans: deque[ReadableSpan] = deque(maxlen=max_spans)
        self._lock = threading.Lock()
        self.dropped = 0

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            if len(self._spans) == self._spans.maxlen:
                self.dropped += 1
            self._spans.append(span)

    def spans(self) -> list[ReadableSpan]:
        with self._lock:
            return list(self._spans)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@dataclass(frozen=True)
class _Call:
    key: CallKey
    end: float
    seconds: float
    dropped: Mapping[str, int]
    discarded: int


def _service(resource: Mapping[str, Any]) -> str:
    """The ``job`` label the collector's Prometheus exporter would give this resource."""
    name = str(resource.get("service.name", ""))
    namespace = resource.get("service.namespace")
    return f"{namespace}/{name}" if namespace else name


def _errcode(value: object) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class MemorySource:
    """A :class:`~._source.Source` over spans kept in memory (and optionally the metrics).

    ``spans`` are the process's finished spans (from a :class:`SpanKeeper`, or an
    ``InMemorySpanExporter``). ``metrics`` (an ``InMemoryMetricReader``'s data) is only used
    to say how many calls the spans do not cover when spans were forgotten.
    """

    def __init__(
        self, spans: Iterable[ReadableSpan], metrics: Optional[MetricsData] = None
    ) -> None:
        self._spans = list(spans)
        self._calls = self._read_calls()
        self._metric_calls = _histogram_count(metrics) if metrics is not None else None
        self._views: Optional[list[TraceView]] = None

    def _read_calls(self) -> list[_Call]:
        # A decorated function whose own HTTP call was recorded has a WeCom child span: only
        # the innermost WeCom span is a call, as only it records a metric point.
        wecom = [s for s in self._spans if isinstance((s.attributes or {}).get(WECOM_API), str)]
        parents = {s.parent.span_id for s in wecom if s.parent is not None}
        calls = []
        for span in wecom:
            context = span.get_span_context()
            if context is None or context.span_id in parents or span.end_time is None:
                continue
            attributes = span.attributes or {}
            resource = span.resource.attributes
            status = str(attributes.get(WECOM_STATUS, "ok"))
            error_type = attributes.get(ERROR_TYPE)
            key = CallKey(
                service=_service(resource),
                instance=str(resource.get("service.instance.id", "")),
                api=str(attributes[WECOM_API]),
                status=status,
                errcode=_errcode(attributes.get(WECOM_ERRCODE)),
                error_type=str(error_type) if error_type is not None else None,
            )
            dropped = {
                name[len(WECOM_MESSAGE_INVALID_PREFIX) :]: int(value)
                for name, value in attributes.items()
                if name.startswith(WECOM_MESSAGE_INVALID_PREFIX) and isinstance(value, int)
            }
            start = span.start_time or span.end_time
            discarded = attributes.get(WECOM_MESSAGE_DISCARDED)
            calls.append(
                _Call(
                    key,
                    span.end_time / 1e9,
                    (span.end_time - start) / 1e9,
                    dropped,
                    discarded if isinstance(discarded, int) else 0,
                )
            )
        return calls

    def _in(self, service: Optional[str], grid: Grid) -> Iterable[tuple[int, _Call]]:
        for call in self._calls:
            if service is not None and call.key.service != service:
                continue
            index = grid.index(call.end)
            if index is not None:
                yield index, call

    def locations(self) -> Mapping[str, str]:
        return {"metrics": "in-memory spans", "traces": "in-memory spans"}

    def lag(self) -> float:
        return 0.0

    def notes(self) -> Sequence[str]:
        if self._metric_calls is None or self._metric_calls <= len(self._calls):
            return ()
        missing = self._metric_calls - len(self._calls)
        return (f"{missing} calls counted by the metrics have no span kept in memory",)

    def services(self) -> Sequence[str]:
        return sorted({call.key.service for call in self._calls})

    def calls(self, service: Optional[str], grid: Grid) -> Sequence[CallSeries]:
        rows: dict[CallKey, list[float]] = defaultdict(grid.zeros)
        for index, call in self._in(service, grid):
            rows[call.key][index] += 1
        return [CallSeries(key, tuple(row)) for key, row in rows.items()]

    def latency(self, service: Optional[str], grid: Grid) -> Sequence[LatencySeries]:
        width = len(_BOUNDS)
        buckets: dict[str, list[list[float]]] = {}
        sums: dict[str, list[float]] = {}
        for index, call in self._in(service, grid):
            api = call.key.api
            if api not in buckets:
                buckets[api] = [[0.0] * width for _ in range(grid.count)]
                sums[api] = grid.zeros()
            column = next(j for j, bound in enumerate(_BOUNDS) if call.seconds <= bound)
            buckets[api][index][column] += 1
            sums[api][index] += call.seconds
        return [
            LatencySeries(api, _BOUNDS, tuple(tuple(row) for row in rows), tuple(sums[api]))
            for api, rows in buckets.items()
        ]

    def recipients(self, service: Optional[str], grid: Grid) -> Sequence[RecipientSeries]:
        rows: dict[tuple[str, str], list[float]] = defaultdict(grid.zeros)
        for index, call in self._in(service, grid):
            for kind, dropped in call.dropped.items():
                rows[(call.key.api, kind)][index] += dropped
        return [RecipientSeries(api, kind, tuple(row)) for (api, kind), row in rows.items()]

    def discards(self, service: Optional[str], grid: Grid) -> Sequence[DiscardSeries]:
        rows: dict[str, list[float]] = defaultdict(grid.zeros)
        for index, call in self._in(service, grid):
            if call.discarded:
                rows[call.key.api][index] += call.discarded
        # The span says how many, not which limit: that is on the metric point only.
        return [DiscardSeries(api, "", tuple(row)) for api, row in rows.items()]

    def instances(self, service: Optional[str], grid: Grid) -> Sequence[Instance]:
        seen: dict[tuple[str, str], Instance] = {}
        for span in self._spans:
            resource = span.resource.attributes
            name = _service(resource)
            if service is not None and name != service:
                continue
            who = (name, str(resource.get("service.instance.id", "")))
            version, host = resource.get("service.version"), resource.get("host.name")
            seen.setdefault(
                who,
                Instance(
                    *who,
                    version=str(version) if version is not None else None,
                    host=str(host) if host is not None else None,
                ),
            )
        return list(seen.values())

    def collector(self, grid: Grid) -> CollectorHealth:
        return CollectorHealth(observed=False)

    def traces(self, query: TraceQuery) -> Sequence[TraceView]:
        if self._views is None:
            self._views = traces_from_spans(self._spans)
        service = query.service.rsplit("/", 1)[-1]
        found = [
            trace
            for trace in self._views
            if any(
                span.service == service
                and query.start <= span.end_ns / 1e9 <= query.end
                and matches(span, query.tags)
                for span in trace.spans
            )
        ]
        found.sort(key=lambda trace: -trace.end_ns)
        return found[: query.limit]


def _histogram_count(metrics: MetricsData) -> int:
    calls = 0
    for resource in metrics.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != DURATION_METRIC:
                    continue
                for point in metric.data.data_points:
                    if isinstance(point, HistogramDataPoint):
                        calls += point.count
    return calls
