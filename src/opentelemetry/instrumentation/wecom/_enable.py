"""``enable()``: an app with no OpenTelemetry setup gets WeCom traces and metrics in one line.

It builds SDK providers with OTLP (or console) exporters from its arguments and
the standard ``OTEL_*`` variables, makes them global, and instruments WeCom
calls. It never stops the app over an unreachable collector: one warning, no
blocking. Every option is in docs/configuration.md.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, Optional, Union

# The one private OpenTelemetry name in the package: the API exports ProxyTracerProvider but no
# public twin for metrics, and this is how "no global meter provider is set yet" is told.
from opentelemetry.metrics._internal import _ProxyMeterProvider
from opentelemetry.trace import ProxyTracerProvider

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.wecom._export_config import SignalConfig, resolve_signal
from opentelemetry.instrumentation.wecom._instrumentor import WeComInstrumentor
from opentelemetry.instrumentation.wecom._settings import resolve_settings

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._sdk_setup import SdkProviders

_logger: Final = logging.getLogger(__name__)

SDK_HINT: Final = (
    "enable() needs the OpenTelemetry SDK and OTLP exporters: "
    "pip install 'opentelemetry-instrumentation-wecom[sdk]'"
)


class TelemetrySetup:
    """What :func:`enable` set up; ``shutdown()`` also runs at exit.

    ``tracer_provider`` and ``meter_provider`` are the SDK providers it built and
    made global, or ``None`` where the app had already set its own (which
    ``enable()`` then leaves alone).
    """

    def __init__(self, providers: Optional[SdkProviders] = None) -> None:
        self._providers = providers
        self.tracer_provider = providers.tracer_provider if providers is not None else None
        self.meter_provider = providers.meter_provider if providers is not None else None
        self._lock = threading.Lock()
        self._shut_down = False

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what is buffered now; ``False`` if an exporter did not finish in time."""
        return self._providers is None or self._providers.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush and stop the providers ``enable()`` built. Idempotent.

        If a collector is known to be down, its exporters are stopped first, so
        the app exits at once instead of waiting for their retries.
        """
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
        atexit.unregister(self.shutdown)
        if self._providers is not None:
            self._providers.shutdown()


_lock = threading.Lock()
_current: Optional[TelemetrySetup] = None


def enable(
    service_name: Optional[str] = None,
    *,
    endpoint: Optional[str] = None,
    protocol: Optional[str] = None,
    traces_exporter: Optional[str] = None,
    metrics_exporter: Optional[str] = None,
    hosts: Union[str, Iterable[str], None] = None,
    keep_http_spans: Optional[bool] = None,
    redact_params: Union[str, Iterable[str], None] = None,
    max_apis: Optional[int] = None,
    call_log: Optional[bool] = None,
    retry_window: Optional[float] = None,
    max_tracked_members: Optional[int] = None,
) -> TelemetrySetup:
    """Send WeCom traces and metrics to an OTLP collector, and instrument WeCom calls.

    Each argument left ``None`` falls back to its environment variable:
    ``service_name`` to OTEL_SERVICE_NAME (and OTEL_RESOURCE_ATTRIBUTES),
    ``endpoint`` to OTEL_EXPORTER_OTLP_[TRACES_|METRICS_]ENDPOINT,
    ``protocol`` (``"http/protobuf"``, the default, or ``"grpc"``) to
    OTEL_EXPORTER_OTLP_[TRACES_|METRICS_]PROTOCOL, ``traces_exporter`` /
    ``metrics_exporter`` (``"otlp"``, the default, ``"console"``, ``"none"`` or a
    comma-separated list) to OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER; the
    rest are ``WeComInstrumentor().instrument()`` options (OTEL_PYTHON_WECOM_*).

    A global provider the app already set is kept, not replaced. Calling
    ``enable()`` again returns the first setup.

    Raises:
        ValueError: a malformed argument or variable, named in the message.
        ImportError: the ``sdk`` extra is not installed.
    """
    global _current  # noqa: PLW0603 - one setup per process, like the global providers
    options = {
        "hosts": hosts,
        "keep_http_spans": keep_http_spans,
        "redact_params": redact_params,
        "max_apis": max_apis,
        "call_log": call_log,
        "retry_window": retry_window,
        "max_tracked_members": max_tracked_members,
    }
    with _lock:
        if _current is not None:
            _logger.info("enable() was already called; keeping the first setup")
            return _current
        # Check the options (not their variables) now, before any global is set.
        resolve_settings(options, environ={})
        setup = _set_up_providers(
            service_name or None, endpoint, protocol, traces_exporter, metrics_exporter
        )
        instrumentor = WeComInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(
                tracer_provider=setup.tracer_provider,
                meter_provider=setup.meter_provider,
                **options,
            )
        elif given := sorted(name for name, value in options.items() if value is not None):
            _logger.warning(
                "WeCom calls are already instrumented (instrument() or opentelemetry-instrument), "
                "so enable() does not apply %s; set them with OTEL_PYTHON_WECOM_* instead",
                ", ".join(given),
            )
        else:
            _logger.info("WeCom calls are already instrumented; enable() keeps that")
        _current = setup
        return setup


def _set_up_providers(
    service_name: Optional[str],
    endpoint: Optional[str],
    protocol: Optional[str],
    traces_exporter: Optional[str],
    metrics_exporter: Optional[str],
) -> TelemetrySetup:
    traces: Optional[SignalConfig] = None
    metrics_config: Optional[SignalConfig] = None
    if isinstance(trace.get_tracer_provider(), ProxyTracerProvider):
        traces = resolve_signal(
            "traces", exporters=traces_exporter, endpoint=endpoint, protocol=protocol
        )
    else:
        _logger.info("a global tracer provider is already set; enable() uses it")
    if isinstance(metrics.get_meter_provider(), _ProxyMeterProvider):
        metrics_config = resolve_signal(
            "metrics", exporters=metrics_exporter, endpoint=endpoint, protocol=protocol
        )
    else:
        _logger.info("a global meter provider is already set; enable() uses it")
    if traces is None and metrics_config is None:
        return TelemetrySetup()

    try:
        from opentelemetry.instrumentation.wecom._sdk_setup import (  # noqa: PLC0415 - the sdk extra
            build_providers,
        )

        providers = build_providers(service_name, traces, metrics_config)
    except ImportError as error:
        raise ImportError(f"{SDK_HINT} ({error})") from error

    if providers.tracer_provider is not None:
        trace.set_tracer_provider(providers.tracer_provider)
    if providers.meter_provider is not None:
        metrics.set_meter_provider(providers.meter_provider)
    setup = TelemetrySetup(providers)
    atexit.register(setup.shutdown)
    return setup
