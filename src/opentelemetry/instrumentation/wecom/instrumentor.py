"""``WeComInstrumentor``: patches httpx and requests so every WeCom call is recorded."""

from __future__ import annotations

import importlib.util
from collections.abc import Collection
from typing import Any, Final

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from opentelemetry.instrumentation.wecom import _telemetry
from opentelemetry.instrumentation.wecom._settings import resolve_settings
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom.package import _instruments

# (module, class, method, adapter module, wrapper) for each patched method.
_PATCHES: Final = (
    ("httpx", "Client", "send", "httpx_adapter", "wrap_send"),
    ("httpx", "AsyncClient", "send", "httpx_adapter", "wrap_async_send"),
    ("requests.sessions", "Session", "send", "requests_adapter", "wrap_send"),
    ("requests.sessions", "Session", "request", "requests_adapter", "wrap_request"),
)


class WeComInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Records every WeCom API call made through httpx or requests.

    ``instrument()`` accepts ``tracer_provider``, ``meter_provider``, ``hosts``,
    ``keep_http_spans``, ``redact_params``, ``max_apis`` and ``call_log``; each
    falls back to its ``OTEL_PYTHON_WECOM_*`` environment variable
    (docs/configuration.md).
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = Telemetry(
            resolve_settings(kwargs),
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        _telemetry.activate(telemetry)
        for module, cls, method, adapter, wrapper in _PATCHES:
            if importlib.util.find_spec(module.split(".", 1)[0]) is None:
                continue
            adapter_module = importlib.import_module(
                f"opentelemetry.instrumentation.wecom.transports.{adapter}"
            )
            wrap_function_wrapper(module, f"{cls}.{method}", getattr(adapter_module, wrapper))

    def _uninstrument(self, **kwargs: Any) -> None:
        for module, cls, method, _, _ in _PATCHES:
            if importlib.util.find_spec(module.split(".", 1)[0]) is None:
                continue
            unwrap(getattr(importlib.import_module(module), cls), method)
        _telemetry.activate(None)
