"""The real OpenTelemetry SDK, as an application would configure it, exporting nowhere.

Spans go through a ``BatchSpanProcessor`` (the production choice) to an
exporter that only counts them by instrumentation scope, so each round can
check that the configuration under test produced the spans it should.
Metrics go to a ``MeterProvider`` with an ``InMemoryMetricReader``: recording
costs the same as with a periodic reader, and collection happens only when the
harness asks (the junk-path series count).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Histogram, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)


class CountingExporter(SpanExporter):
    """Drops spans, counting them per instrumentation scope name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        counts = Counter(
            span.instrumentation_scope.name if span.instrumentation_scope else "" for span in spans
        )
        with self._lock:
            self._counts.update(counts)
        return SpanExportResult.SUCCESS

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)

    def shutdown(self) -> None:
        """Nothing to release."""


class Sdk:
    """One tracer provider and one meter provider for the whole run."""

    def __init__(self) -> None:
        self.exporter = CountingExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])

    def flush(self) -> None:
        """Export every span ended so far (part of the measured cost of a round)."""
        self.tracer_provider.force_flush()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def histogram_points(reader: InMemoryMetricReader, name: str) -> list[tuple[dict[str, Any], int]]:
    """``(attributes, count)`` of every data point (series) of the histogram ``name``."""
    data = reader.get_metrics_data()
    points: list[tuple[dict[str, Any], int]] = []
    if data is None:
        return points
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == name and isinstance(metric.data, Histogram):
                    points.extend(
                        (dict(point.attributes or {}), point.count)
                        for point in metric.data.data_points
                    )
    return points
