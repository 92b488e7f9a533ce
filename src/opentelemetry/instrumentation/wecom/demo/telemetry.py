"""The demo's OpenTelemetry SDK setup: in-memory readers for the summary, OTLP when asked.

The summary is computed from the same data a collector gets: the ``wecom.client.duration``
histogram through an :class:`InMemoryMetricReader`, and the finished spans through
:class:`CallRecorder`. OTLP export reuses ``enable()``'s building blocks (endpoint and protocol
from the ``OTEL_EXPORTER_OTLP_*`` variables, one warning when no collector answers).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Optional

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import format_trace_id

from opentelemetry.instrumentation.wecom import _sdk_setup
from opentelemetry.instrumentation.wecom._attributes import (
    WECOM_API,
    WECOM_ERRCODE,
    WECOM_MESSAGE_PARTIAL_FAILURE,
    WECOM_STATUS,
)
from opentelemetry.instrumentation.wecom._export_config import OtlpTarget, resolve_signal
from opentelemetry.instrumentation.wecom._export_health import ExportHealth

TRACE_IDS_PER_ERRCODE = 3
# Frequent enough for Prometheus to draw rates during a 12 s run.
METRIC_EXPORT_INTERVAL_MS = 5_000


@dataclass
class CallRecorder(SpanProcessor):
    """Counts partial failures per API and keeps a few trace ids of failed calls per errcode."""

    partial_failures: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    trace_ids: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_end(self, span: ReadableSpan) -> None:
        attributes = span.attributes or {}
        api = attributes.get(WECOM_API)
        if not isinstance(api, str) or span.context is None:
            return
        errcode = attributes.get(WECOM_ERRCODE)
        with self._lock:
            if attributes.get(WECOM_MESSAGE_PARTIAL_FAILURE):
                self.partial_failures[api] += 1
            if attributes.get(WECOM_STATUS) == "ok":
                return
            self.failures += 1
            key = errcode if isinstance(errcode, int) else -1
            ids = self.trace_ids[key]
            if len(ids) < TRACE_IDS_PER_ERRCODE:
                ids.append(format_trace_id(span.context.trace_id))


class DemoTelemetry:
    """Tracer and meter providers for one demo run; OTLP export when ``otlp`` is True."""

    def __init__(self, service_name: str, *, otlp: bool) -> None:
        resource = _sdk_setup.build_resource(service_name)
        self.recorder = CallRecorder()
        self.memory = InMemoryMetricReader()
        self.target: Optional[OtlpTarget] = None
        self._health: Optional[ExportHealth] = None
        self._abortables: list[_sdk_setup._Abortable] = []
        readers: list[MetricReader] = [self.memory]
        if otlp:
            traces = resolve_signal("traces", exporters="otlp")
            metrics = resolve_signal("metrics", exporters="otlp")
            assert traces.otlp is not None
            assert metrics.otlp is not None
            self.target = traces.otlp
            self._health = ExportHealth([traces.otlp, metrics.otlp])
            self.tracer_provider = _sdk_setup.build_tracer_provider(
                traces, resource, self._health, self._abortables
            )
            exporter = _sdk_setup._WatchedMetricExporter(
                _sdk_setup._otlp_exporter(metrics, metrics.otlp),
                _sdk_setup._reporter(self._health, metrics.otlp),
            )
            self._abortables.append(exporter)
            readers.append(
                PeriodicExportingMetricReader(
                    exporter, export_interval_millis=METRIC_EXPORT_INTERVAL_MS
                )
            )
            self._health.install()
            self._health.start_probe()
        else:
            self.tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.tracer_provider.add_span_processor(self.recorder)
        self.meter_provider = MeterProvider(
            metric_readers=readers, resource=resource, shutdown_on_exit=False
        )

    def metrics_data(self) -> Optional[MetricsData]:
        return self.memory.get_metrics_data()

    def export_failing(self) -> bool:
        """Whether the collector is known not to answer (False when there is no OTLP export)."""
        return self._health is not None and self._health.failing()

    def shutdown(self) -> None:
        """Flush to the collector and stop; with the collector down, give up at once."""
        if self.export_failing():
            for abortable in self._abortables:
                abortable.abort()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
