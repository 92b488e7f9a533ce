"""SDK tracer and meter providers, shared by ``enable()`` and the demo.

:func:`build_providers` is the one place providers are built from the export
configuration (``_export_config``) and :class:`SdkProviders` the one way they
are stopped (at once, when the collector is known to be down). This module
imports the SDK (the ``sdk`` extra), and the gRPC exporters only when the gRPC
protocol is chosen, so an app using http/protobuf needs no grpcio.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, TypeVar

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
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
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


class SdkProviders:
    """Tracer and meter providers built by :func:`build_providers`, and how to stop them.

    A provider is ``None`` for a signal that was not asked for.
    """

    def __init__(
        self,
        tracer_provider: Optional[TracerProvider],
        meter_provider: Optional[MeterProvider],
        health: ExportHealth,
        abortables: Sequence[_Abortable],
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.health = health
        self._abortables = tuple(abortables)

    def export_failing(self) -> bool:
        """Whether a collector is known not to answer."""
        return self.health.failing()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what is buffered now; ``False`` if an exporter did not finish in time."""
        flushed = True
        if self.tracer_provider is not None:
            flushed = self.tracer_provider.force_flush(timeout_millis) and flushed
        if self.meter_provider is not None:
            flushed = self.meter_provider.force_flush(timeout_millis) and flushed
        return flushed

    def shutdown(self) -> None:
        """Flush and stop; with a collector known to be down, stop its exporters first,
        so the process exits at once instead of waiting for their retries."""
        if self.health.failing():
            for abortable in self._abortables:
                abortable.abort()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


def build_providers(
    service_name: Optional[str],
    traces: Optional[SignalConfig],
    metrics: Optional[SignalConfig],
    *,
    span_processors: Iterable[SpanProcessor] = (),
    metric_readers: Iterable[MetricReader] = (),
    metric_export_interval_millis: Optional[float] = None,
) -> SdkProviders:
    """Providers exporting as ``traces`` / ``metrics`` say (``None``: no provider for it).

    ``span_processors`` and ``metric_readers`` are added next to the exporters (the
    demo's in-memory readers). An OTLP target starts the export health watch: one
    warning when no collector answers.
    """
    targets = [c.otlp for c in (traces, metrics) if c is not None and c.otlp is not None]
    health = ExportHealth(targets)
    abortables: list[_Abortable] = []
    resource = build_resource(service_name)
    tracer_provider = None
    if traces is not None:
        tracer_provider = _tracer_provider(traces, resource, health, abortables)
        for processor in span_processors:
            tracer_provider.add_span_processor(processor)
    meter_provider = None
    if metrics is not None:
        readers = _metric_readers(
            metrics, health, abortables, interval_millis=metric_export_interval_millis
        )
        readers.extend(metric_readers)
        meter_provider = MeterProvider(
            metric_readers=readers, resource=resource, shutdown_on_exit=False
        )
    if targets:
        health.install()
        health.start_probe()
    return SdkProviders(tracer_provider, meter_provider, health, abortables)


def _tracer_provider(
    config: SignalConfig, resource: Resource, health: ExportHealth, abortables: list[_Abortable]
) -> TracerProvider:
    """A TracerProvider with one BatchSpanProcessor per configured exporter."""
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for exporter in _exporters(
        config, health, abortables, ConsoleSpanExporter, _WatchedSpanExporter
    ):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _metric_readers(
    config: SignalConfig,
    health: ExportHealth,
    abortables: list[_Abortable],
    *,
    interval_millis: Optional[float],
) -> list[MetricReader]:
    """One PeriodicExportingMetricReader per configured exporter."""
    exporters = _exporters(
        config, health, abortables, ConsoleMetricExporter, _WatchedMetricExporter
    )
    return [
        PeriodicExportingMetricReader(exporter, export_interval_millis=interval_millis)
        for exporter in exporters
    ]


_E = TypeVar("_E", SpanExporter, MetricExporter)


def _exporters(
    config: SignalConfig,
    health: ExportHealth,
    abortables: list[_Abortable],
    console: Callable[[], _E],
    watched: Callable[[Any, Callable[[bool], None]], _Abortable],
) -> list[_E]:
    """The configured exporters of one signal; OTLP ones report to ``health`` and can abort."""
    exporters: list[_E] = []
    for name in config.exporters:
        if name == CONSOLE:
            exporters.append(console())
            continue
        assert config.otlp is not None
        exporter = watched(_otlp_exporter(config, config.otlp), _reporter(health, config.otlp))
        abortables.append(exporter)
        exporters.append(exporter)  # type: ignore[arg-type]
    return exporters


def build_resource(service_name: Optional[str]) -> Resource:
    """``Resource.create`` reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; the name wins."""
    return Resource.create({"service.name": service_name} if service_name else None)
