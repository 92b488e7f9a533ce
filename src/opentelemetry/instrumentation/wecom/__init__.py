"""OpenTelemetry instrumentation for WeCom (企业微信) server API calls.

WeCom answers HTTP 200 even when a call fails: the failure is the ``errcode``
in the JSON body. This package records every WeCom call made through httpx
or requests as a span and metric points that carry the API name, the errcode,
what it means and whether a retry can help, and keeps every secret
(``access_token``, ``corpsecret``, webhook ``key`` ...) inside the process.

Usage::

    from opentelemetry.instrumentation.wecom import WeComInstrumentor

    WeComInstrumentor().instrument()

The telemetry contract is in docs/telemetry.md, the options in docs/configuration.md.
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom.decorator import wecom_api
from opentelemetry.instrumentation.wecom.enable import TelemetrySetup, enable
from opentelemetry.instrumentation.wecom.errcodes import ErrcodeInfo, explain
from opentelemetry.instrumentation.wecom.instrumentor import WeComInstrumentor
from opentelemetry.instrumentation.wecom.version import __version__

__all__ = [
    "ErrcodeInfo",
    "TelemetrySetup",
    "WeComInstrumentor",
    "__version__",
    "enable",
    "explain",
    "wecom_api",
]
