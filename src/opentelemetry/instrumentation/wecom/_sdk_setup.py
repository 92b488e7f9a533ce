"""SDK tracer and meter providers for ``enable()``; imported only when it builds them.

This module imports the SDK (the ``sdk`` extra), and the gRPC exporters only
when the gRPC protocol is chosen, so an app using http/protobuf needs no grpcio.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Callable

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)

from opentelemetry.instrumentation.wecom._export_config import (
    CONSOLE,
    GRPC,
    OtlpTarget,
    SignalConfig,
)
from opentelemetry.instrumentation.wecom._export_health import ExportHealth

_OTLP_MODULES = {
    ("traces", "http/protobuf"): "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    ("traces", GRPC): "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    ("metrics", "http/protobuf"): "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    ("metrics", GRPC): "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
}
_OTLP_CLASSES = {"traces": "OTLPSpanExporter", "metrics": "OTLPMetricExporter"}


def _otlp_exporter(config: SignalConfig, target: OtlpTarget) -> Any:
    module = importlib.import_module(_OTLP_MODULES[(config.signal, target.protocol)])
    return getattr(module, _OTLP_CLASSES[config.signal])(endpoint=target.url)


class _Abortable:
    """Shuts its OTLP exporter down early, so an exit with the collector down does not wait
    for the exporter's retries (several seconds per batch)."""

    def __init__(self, inner: SpanExporter | MetricExporter) -> None:
        self._inner = inner
        self._closed = False

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            self._inner.shutdown()


class _WatchedSpanExporter(SpanExporter, _Abortable):
    """Reports each export's result to :class:`ExportHealth`."""

    def __init__(self, inner: SpanExporter, report: Callable[[bool], None]) -> None:
        _Abortable.__init__(self, inner)
        self._spans = inner
        self._report = report

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._closed:
            return SpanExportResult.FAILURE
        result = SpanExportResult.FAILURE
        try:
            result = self._spans.export(spans)
        finally:
            self._report(result is SpanExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self.abort()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._spans.force_flush(timeout_millis)


class _WatchedMetricExporter(MetricExporter, _Abortable):
    """Reports each export's result to :class:`ExportHealth`; keeps the inner temporality."""

    def __init__(self, inner: MetricExporter, report: Callable[[bool], None]) -> None:
        MetricExporter.__init__(
            self,
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        _Abortable.__init__(self, inner)
        self._metrics = inner
        self._report = report

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if self._closed:
            return MetricExportResult.FAILURE
        result = MetricExportResult.FAILURE
        try:
            result = self._metrics.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        finally:
            self._report(result is MetricExportResult.SUCCESS)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._metrics.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.abort()


def _reporter(health: ExportHealth, target: OtlpTarget) -> Callable[[bool], None]:
    def report(ok: bool) -> None:
        health.export_result(target, ok=ok)

    return report


def build_tracer_provider(
    config: SignalConfig, resource: Resource, health: ExportHealth, abortables: list[_Abortable]
) -> TracerProvider:
    """A TracerProvider with one BatchSpanProcessor per configured exporter."""
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for name in config.exporters:
        exporter: SpanExporter
        if name == CONSOLE:
            exporter = ConsoleSpanExporter()
        else:
            assert config.otlp is not None
            watched = _WatchedSpanExporter(
                _otlp_exporter(config, config.otlp), _reporter(health, config.otlp)
            )
            abortables.append(watched)
            exporter = watched
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def build_meter_provider(
    config: SignalConfig, resource: Resource, health: ExportHealth, abortables: list[_Abortable]
) -> MeterProvider:
    """A MeterProvider with one PeriodicExportingMetricReader per configured exporter."""
    readers: list[MetricReader] = []
    for name in config.exporters:
        exporter: MetricExporter
        if name == CONSOLE:
            exporter = ConsoleMetricExporter()
        else:
            assert config.otlp is not None
            watched = _WatchedMetricExporter(
                _otlp_exporter(config, config.otlp), _reporter(health, config.otlp)
            )
            abortables.append(watched)
            exporter = watched
        readers.append(PeriodicExportingMetricReader(exporter))
    return MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)


def build_resource(service_name: str | None) -> Resource:
    """``Resource.create`` reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; the name wins."""
    return Resource.create({"service.name": service_name} if service_name else None)
