"""Fixtures for the instrumentation tests: the real SDK with in-memory exporters, and the mock."""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint
from opentelemetry.sdk.trace import ReadableSpan

from opentelemetry.instrumentation.wecom.testing import MockWeComServer
from tests._telemetry import InMemoryTelemetry


class Telemetry(InMemoryTelemetry):
    """What the instrumentation exported, with helpers to look at it."""

    def wecom_spans(self) -> list[ReadableSpan]:
        return self.spans("wecom ")

    def duration_count(self) -> int:
        points = self.points("wecom.client.duration")
        return sum(p.count for p in points if isinstance(p, HistogramDataPoint))

    def counts(self, metric: str, *keys: str) -> Counter[tuple[Any, ...]]:
        """The sums of ``metric``'s points by the values of the attributes ``keys``."""
        found: Counter[tuple[Any, ...]] = Counter()
        for point in self.points(metric):
            labels = dict(point.attributes or {})
            found[tuple(labels.get(key) for key in keys)] += point.value
        return +found


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
    with telemetry.instrumenting(hosts=[mock.host]):
        yield telemetry


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def body_json(content: bytes) -> dict[str, Any]:
    value = json.loads(content)
    assert isinstance(value, dict)
    return value


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    """Only reference counting frees objects: what a reference cycle keeps stays."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
