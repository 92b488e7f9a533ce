"""A local observability stack without Docker: the WeCom collector, Jaeger and Prometheus.

``wecom-otel stack build|up|down|status`` and the end-to-end tests drive it. The
binaries are built from source with the Go toolchain (the collector with the
OpenTelemetry Collector Builder, Jaeger from its module) and cached outside the
repository; Prometheus comes from Debian. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom.stack.build import Binaries, BuildError, ensure_binaries
from opentelemetry.instrumentation.wecom.stack.ports import PortInUseError, StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import LocalStack, StackError

__all__ = [
    "Binaries",
    "BuildError",
    "LocalStack",
    "PortInUseError",
    "StackError",
    "StackPorts",
    "ensure_binaries",
]
