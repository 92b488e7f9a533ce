"""The data points of one metric in what the demo's in-memory metric reader collected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional, TypeVar

from opentelemetry.sdk.metrics.export import MetricsData

Point = TypeVar("Point")


def points(data: Optional[MetricsData], name: str, kind: type[Point]) -> Iterator[Point]:
    """Every data point of the metric ``name`` that is a ``kind`` (none when ``data`` is None)."""
    for resource_metrics in data.resource_metrics if data is not None else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        if isinstance(point, kind):
                            yield point
