"""The real OpenTelemetry SDK with in-memory exporters, for the test packages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from opentelemetry.instrumentation.wecom import WeComInstrumentor


def data_points(data: Optional[MetricsData], metric: str) -> list[Any]:
    """Every data point of ``metric`` in one collection."""
    found: list[Any] = []
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for item in scope_metrics.metrics:
                if item.name == metric:
                    found.extend(item.data.data_points)
    return found


class InMemoryTelemetry:
    """Spans as they end, metrics when collected.

    Metrics are cumulative, as the SDK exports them by default; ``delta_histograms`` makes
    each collection's histograms hold only what was recorded since the previous one.
    """

    def __init__(
        self, *, sampler: Optional[Sampler] = None, delta_histograms: bool = False
    ) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(sampler=sampler)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        temporality = {Histogram: AggregationTemporality.DELTA} if delta_histograms else None
        self.reader = InMemoryMetricReader(preferred_temporality=temporality)
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def providers(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def spans(self, prefix: str = "") -> list[ReadableSpan]:
        """The ended spans whose name starts with ``prefix``, in the order they ended."""
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith(prefix)]

    def points(self, metric: str) -> list[Any]:
        """The data points of ``metric`` in a collection made now."""
        return data_points(self.reader.get_metrics_data(), metric)

    def dump(self) -> str:
        """Every exported string: spans (names, attributes, events, status) and metrics."""
        parts = [span.to_json() for span in self.exporter.get_finished_spans()]
        data = self.reader.get_metrics_data()
        if data is not None:
            parts.append(data.to_json())
        return "\n".join(parts)

    @contextmanager
    def instrumenting(self, **options: Any) -> Iterator[InMemoryTelemetry]:
        """``WeComInstrumentor`` recording here, with ``options``, for the block."""
        WeComInstrumentor().instrument(**self.providers, **options)
        try:
            yield self
        finally:
            WeComInstrumentor().uninstrument()
