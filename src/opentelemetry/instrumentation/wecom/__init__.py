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

import importlib
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.instrumentation.wecom.version import __version__

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._decorator import wecom_api
    from opentelemetry.instrumentation.wecom._enable import TelemetrySetup, enable
    from opentelemetry.instrumentation.wecom._instrumentor import WeComInstrumentor
    from opentelemetry.instrumentation.wecom.errcodes import ErrcodeInfo, explain

__all__ = [
    "ErrcodeInfo",
    "TelemetrySetup",
    "WeComInstrumentor",
    "__version__",
    "enable",
    "explain",
    "wecom_api",
]

# Each public name and the module that defines it, imported on first access (PEP 562), so
# that importing a subpackage (``testing``, ``stack``, ``cli``) loads none of the others.
_LAZY: Final = {
    "ErrcodeInfo": ".errcodes",
    "TelemetrySetup": "._enable",
    "WeComInstrumentor": "._instrumentor",
    "enable": "._enable",
    "explain": ".errcodes",
    "wecom_api": "._decorator",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
