"""Shared by the examples: which WeCom they call, and where their telemetry goes.

WeCom: with ``WECOM_CORP_ID`` and ``WECOM_CORP_SECRET`` set, the real one (or the server at
``WECOM_BASE_URL``, e.g. ``wecom-otel mock --port 8080``); otherwise each example starts a
``MockWeComServer`` on loopback, with faults of its own so there are errcodes to see.

Telemetry: ``enable()`` builds the SDK providers. Spans are printed to the console, or sent to
your collector when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (e.g. ``wecom-otel stack up``, then
``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318``: look them up in Jaeger).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from opentelemetry.instrumentation.wecom import TelemetrySetup, enable
from opentelemetry.instrumentation.wecom.testing import MockWeComServer
from opentelemetry.instrumentation.wecom.testing.server import (
    DEFAULT_AGENT_ID,
    DEFAULT_CORP_ID,
    DEFAULT_CORP_SECRET,
    DEFAULT_WEBHOOK_KEY,
)

REAL_WECOM = "https://qyapi.weixin.qq.com"


@dataclass
class WeCom:
    """Where to send calls: ``api_base_url`` ends with ``/cgi-bin/``."""

    api_base_url: str
    corp_id: str
    corp_secret: str
    agent_id: int
    webhook_key: str
    hosts: Optional[list[str]]  # WeCom hosts to instrument; None = qyapi.weixin.qq.com
    mock: Optional[MockWeComServer] = None

    @property
    def webhook_url(self) -> str:
        return f"{self.api_base_url}webhook/send?key={self.webhook_key}"


@contextmanager
def wecom(**mock_options: Any) -> Iterator[WeCom]:
    """The real WeCom from the environment, or a mock started with ``mock_options``."""
    base_url = os.environ.get("WECOM_BASE_URL", "").rstrip("/")
    if os.environ.get("WECOM_CORP_ID") or base_url:
        host = base_url.split("://", 1)[-1] if base_url else None
        yield WeCom(
            api_base_url=(base_url or REAL_WECOM) + "/cgi-bin/",
            corp_id=os.environ.get("WECOM_CORP_ID", DEFAULT_CORP_ID),
            corp_secret=os.environ.get("WECOM_CORP_SECRET", DEFAULT_CORP_SECRET),
            agent_id=int(os.environ.get("WECOM_AGENT_ID", DEFAULT_AGENT_ID)),
            webhook_key=os.environ.get("WECOM_WEBHOOK_KEY", DEFAULT_WEBHOOK_KEY),
            hosts=[host] if host else None,
        )
        return
    with MockWeComServer(**mock_options) as mock:
        print(f"(no WECOM_CORP_ID: calling a mock WeCom at {mock.base_url})")
        yield WeCom(
            mock.api_base_url,
            mock.corp_id,
            mock.corp_secret,
            mock.agent_id,
            mock.webhook_key,
            [mock.host],
            mock,
        )


def start_telemetry(service_name: str, hosts: Optional[list[str]]) -> TelemetrySetup:
    """Spans to the console, or everything to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    otlp = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    return enable(
        service_name=service_name,
        hosts=hosts,
        traces_exporter="otlp" if otlp else "console",
        metrics_exporter="otlp" if otlp else "none",
    )


def where_the_traces_went() -> str:
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint:
        return f"Traces and metrics were sent to {endpoint} (OTLP); look for them in Jaeger."
    return (
        "The spans are printed above (console exporter); "
        "set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector."
    )
