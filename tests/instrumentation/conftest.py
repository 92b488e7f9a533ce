"""Fixtures for the instrumentation tests: the real SDK with in-memory exporters, and the mock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry.instrumentation.wecom import WeComInstrumentor
from opentelemetry.instrumentation.wecom.testing import MockWeComServer


class Telemetry:
    """What the instrumentation exported, with helpers to look at it."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self._metrics: Any = None

    def spans(self, name_prefix: str = "") -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith(name_prefix)]

    def wecom_spans(self) -> list[ReadableSpan]:
        return self.spans("wecom ")

    def collect(self) -> None:
        self._metrics = self.reader.get_metrics_data()

    def points(self, metric: str) -> list[Any]:
        if self._metrics is None:
            self.collect()
        found = []
        for resource_metrics in self._metrics.resource_metrics if self._metrics else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for item in scope_metrics.metrics:
                    if item.name == metric:
                        found.extend(item.data.data_points)
        return found

    def duration_count(self) -> int:
        points = self.points("wecom.client.duration")
        return sum(p.count for p in points if isinstance(p, HistogramDataPoint))

    def dump(self) -> str:
        """Every exported string (span names, attributes, events, statuses, metric attributes)."""
        parts: list[str] = []
        for span in self.exporter.get_finished_spans():
            parts.append(span.to_json())
        self.collect()
        if self._metrics is not None:
            parts.append(self._metrics.to_json())
        return "\n".join(parts)


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
def mock() -> Iterator[MockWeComServer]:
    with MockWeComServer(seed=1) as server:
        yield server


@pytest.fixture
def instrumented(telemetry: Telemetry, mock: MockWeComServer) -> Iterator[Telemetry]:
    """WeComInstrumentor on the real SDK, treating the mock as a WeCom host."""
    WeComInstrumentor().instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        hosts=[mock.host],
    )
    try:
        yield telemetry
    finally:
        WeComInstrumentor().uninstrument()


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def body_json(content: bytes) -> dict[str, Any]:
    value = json.loads(content)
    assert isinstance(value, dict)
    return value
