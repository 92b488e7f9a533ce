"""Where the diagnosis looks for Jaeger and Prometheus when the user names neither.

One rule for ``wecom-otel diagnose``, ``wecom-otel trace``, the demo and ``diagnose()``: an
explicit URL wins, then the environment variable, then the ports of the local stack's last
``wecom-otel stack up`` (its defaults when it never ran).
"""

from __future__ import annotations

import os
from typing import Optional

from opentelemetry.instrumentation.wecom.stack.processes import last_ports

#: The Jaeger query API (the UI's port, 16686 by default), e.g. ``http://jaeger:16686``.
JAEGER_URL_ENV = "WECOM_OTEL_JAEGER_URL"
#: The Prometheus HTTP API (or Mimir, Thanos, VictoriaMetrics), e.g. ``http://prometheus:9090``.
PROMETHEUS_URL_ENV = "WECOM_OTEL_PROMETHEUS_URL"


def jaeger_url(explicit: Optional[str] = None) -> str:
    """The Jaeger query URL: ``explicit``, ``$WECOM_OTEL_JAEGER_URL`` or the local stack's."""
    return _pick(explicit, JAEGER_URL_ENV) or last_ports().url("jaeger_ui")


def prometheus_url(explicit: Optional[str] = None) -> str:
    """The Prometheus URL: ``explicit``, ``$WECOM_OTEL_PROMETHEUS_URL`` or the local stack's."""
    return _pick(explicit, PROMETHEUS_URL_ENV) or last_ports().url("prometheus")


def _pick(explicit: Optional[str], env: str) -> Optional[str]:
    for candidate in (explicit, os.environ.get(env)):
        if candidate and candidate.strip():
            return candidate.strip()
    return None
