"""One clear warning when the collector is unreachable, instead of one per batch.

The OTLP exporters and batch processors log a warning or error for every
attempt of every batch while the collector is down ("Transient error ...
retrying", "Failed to export ...", "Queue full ..."). For the providers that
``enable()`` built, those records are moved to DEBUG on this module's logger,
and :class:`ExportHealth` says once per outage, naming the endpoint and the
setting it came from, that telemetry is being dropped. The outage is noticed by
a non-blocking TCP probe at start-up and by the export results; an export that
succeeds ends it, so a later outage is reported again.
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.request
from collections.abc import Sequence
from typing import Final, Optional
from urllib.parse import urlsplit

from opentelemetry.instrumentation.wecom._export_config import OtlpTarget

logger: Final = logging.getLogger(__name__)

PROBE_TIMEOUT_S: Final = 2.0

# Loggers that report failed exports, across the supported SDK versions.
EXPORT_LOGGERS: Final = (
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.trace.export",
    "opentelemetry.sdk.metrics._internal.export",
)


class ExportHealth(logging.Filter):
    """Outage state of the OTLP targets; also the filter installed on :data:`EXPORT_LOGGERS`."""

    def __init__(self, targets: Sequence[OtlpTarget]) -> None:
        super().__init__()
        self._targets = tuple(targets)
        self._lock = threading.Lock()
        self._failing: set[str] = set()
        self._last_error = ""
        self._probe: Optional[threading.Thread] = None

    def install(self) -> None:
        for name in EXPORT_LOGGERS:
            logging.getLogger(name).addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep records below WARNING; move the others to DEBUG here, noting the last error."""
        if record.levelno < logging.WARNING:
            return True
        message = record.getMessage()
        with self._lock:
            self._last_error = message
        logger.debug("%s: %s", record.name, message)
        return False

    def start_probe(self) -> None:
        """Try a TCP connection to each endpoint in a daemon thread; warn if one is refused."""
        self._probe = threading.Thread(target=self._run_probe, name="wecom-otlp-probe", daemon=True)
        self._probe.start()

    def _run_probe(self) -> None:
        for target in {(t.host, t.port): t for t in self._targets}.values():
            if _behind_proxy(target):
                continue  # a direct connection says nothing; the export results will tell
            try:
                socket.create_connection((target.host, target.port), PROBE_TIMEOUT_S).close()
            except OSError as error:
                self.export_result(target, ok=False, reason=f"cannot connect: {error}")

    def export_result(self, target: OtlpTarget, *, ok: bool, reason: str = "") -> None:
        """Record an export's outcome; the first failure of an outage logs the warning."""
        key = f"{target.host}:{target.port}"
        with self._lock:
            if ok:
                self._failing.discard(key)
                return
            if key in self._failing:
                return
            self._failing.add(key)
            reason = reason or self._last_error or "export failed"
        logger.warning(
            "OpenTelemetry export to %s (%s, from %s) is failing: %s. "
            "The application is not affected; spans and metrics are dropped until a "
            "collector accepts them there. Further export errors are logged at DEBUG on %r.",
            target.endpoint,
            target.protocol,
            target.source,
            reason,
            logger.name,
        )

    def failing(self) -> bool:
        """Whether an endpoint is known to be down, waiting for a probe still running."""
        probe = self._probe
        if probe is not None:
            probe.join(PROBE_TIMEOUT_S)
        with self._lock:
            return bool(self._failing)


def _behind_proxy(target: OtlpTarget) -> bool:
    """Whether the exporter reaches ``target`` through a proxy from the environment."""
    scheme = urlsplit(target.endpoint).scheme
    proxied = bool(urllib.request.getproxies().get(scheme))
    return proxied and not urllib.request.proxy_bypass(target.host)
