"""The demo's OpenTelemetry SDK setup: in-memory readers for the summary, OTLP when asked.

The summary is computed from the same data a collector gets: the ``wecom.client.duration``
histogram through an :class:`InMemoryMetricReader`, and the finished spans through
:class:`CallRecorder`; the diagnosis of the run reads the spans a :class:`SpanKeeper` kept.
The providers are built and stopped by ``enable()``'s shared helper
(``_sdk_setup.build_providers``): endpoint and protocol from the ``OTEL_EXPORTER_OTLP_*``
variables, one warning when no collector answers, no wait at exit when it is down.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Optional

from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import format_trace_id

from opentelemetry.instrumentation.wecom._attributes import (
    STATUS_OK,
    WECOM_API,
    WECOM_ERRCODE,
    WECOM_MESSAGE_PARTIAL_FAILURE,
    WECOM_STATUS,
)
from opentelemetry.instrumentation.wecom._export_config import OtlpTarget, resolve_signal
from opentelemetry.instrumentation.wecom._sdk_setup import build_providers
from opentelemetry.instrumentation.wecom.demo.chains import ChainRecorder
from opentelemetry.instrumentation.wecom.diagnosis import SpanKeeper

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
            if attributes.get(WECOM_STATUS) == STATUS_OK:
                return
            self.failures += 1
            key = errcode if isinstance(errcode, int) else -1
            ids = self.trace_ids[key]
            if len(ids) < TRACE_IDS_PER_ERRCODE:
                ids.append(format_trace_id(span.context.trace_id))


class DemoTelemetry:
    """Tracer and meter providers for one demo run; OTLP export when ``otlp`` is True."""

    def __init__(self, service_name: str, *, otlp: bool) -> None:
        self.recorder = CallRecorder()
        self.chains = ChainRecorder()
        # Every finished span, for the diagnosis of the run (bounded: SpanKeeper's default).
        self.keeper = SpanKeeper()
        self.memory = InMemoryMetricReader()
        exporters = "otlp" if otlp else "none"
        traces = resolve_signal("traces", exporters=exporters)
        self._providers = build_providers(
            service_name,
            traces,
            resolve_signal("metrics", exporters=exporters),
            span_processors=[self.recorder, self.chains, self.keeper],
            metric_readers=[self.memory],
            metric_export_interval_millis=METRIC_EXPORT_INTERVAL_MS,
        )
        self.target: Optional[OtlpTarget] = traces.otlp
        assert self._providers.tracer_provider is not None
        assert self._providers.meter_provider is not None
        self.tracer_provider = self._providers.tracer_provider
        self.meter_provider = self._providers.meter_provider

    def metrics_data(self) -> Optional[MetricsData]:
        return self.memory.get_metrics_data()

    def export_failing(self) -> bool:
        """Whether the collector is known not to answer (False when there is no OTLP export)."""
        return self._providers.export_failing()

    def shutdown(self) -> None:
        """Flush to the collector and stop; with the collector down, give up at once."""
        self._providers.shutdown()
