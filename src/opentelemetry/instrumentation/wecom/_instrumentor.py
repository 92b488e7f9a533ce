"""``WeComInstrumentor``: patches httpx, requests and aiohttp so every WeCom call is recorded."""

from __future__ import annotations

import importlib.util
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from opentelemetry.instrumentation.wecom import _telemetry
from opentelemetry.instrumentation.wecom._settings import resolve_settings
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom.package import _instruments


def _installed(client: str) -> bool:
    """Whether ``client`` can be imported; its adapter is imported only then."""
    return importlib.util.find_spec(client) is not None


class WeComInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Records every WeCom API call made through httpx, requests or aiohttp.

    ``instrument()`` accepts ``tracer_provider``, ``meter_provider``, ``hosts``,
    ``keep_http_spans``, ``redact_params``, ``max_apis``, ``call_log``, ``retry_window``
    and ``max_tracked_members``; each falls back to its ``OTEL_PYTHON_WECOM_*``
    environment variable (docs/configuration.md).
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = Telemetry(
            resolve_settings(kwargs),
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        # The decorator, which no instrument() call builds, records into the same telemetry.
        _telemetry.activate(telemetry)

        if _installed("httpx"):
            from opentelemetry.instrumentation.wecom._transports import _httpx  # noqa: PLC0415

            httpx_streams = _httpx.Streams()
            wrap_function_wrapper(
                "httpx", "Client.send", _httpx.send_wrapper(telemetry, httpx_streams)
            )
            wrap_function_wrapper(
                "httpx", "AsyncClient.send", _httpx.async_send_wrapper(telemetry, httpx_streams)
            )
            # A streamed response's decoded chunks feed its call as the app reads them.
            wrap_function_wrapper(
                "httpx", "Response.iter_bytes", _httpx.iter_bytes_wrapper(httpx_streams)
            )
            wrap_function_wrapper(
                "httpx", "Response.aiter_bytes", _httpx.aiter_bytes_wrapper(httpx_streams)
            )

        if _installed("requests"):
            from opentelemetry.instrumentation.wecom._transports import _requests  # noqa: PLC0415

            requests_streams = _requests.Streams()
            wrap_function_wrapper(
                "requests.sessions",
                "Session.send",
                _requests.send_wrapper(telemetry, requests_streams),
            )
            # A streamed response's body is watched as the app reads it; closing it ends the call.
            wrap_function_wrapper(
                "requests.models",
                "Response.iter_content",
                _requests.iter_content_wrapper(requests_streams),
            )
            wrap_function_wrapper(
                "requests.models", "Response.close", _requests.close_wrapper(requests_streams)
            )
            # Redirect hops belong to the app's request, whichever host they go to.
            wrap_function_wrapper(
                "requests.sessions",
                "Session.resolve_redirects",
                _requests.redirects_wrapper(telemetry),
            )
            if _installed("opentelemetry.instrumentation.requests"):
                # Only to silence the stock requests instrumentation for WeCom URLs.
                wrap_function_wrapper(
                    "requests.sessions", "Session.request", _requests.request_wrapper(telemetry)
                )

        if _installed("aiohttp"):
            from opentelemetry.instrumentation.wecom._transports import _aiohttp  # noqa: PLC0415

            aiohttp_responses = _aiohttp.Responses()
            # get/post/request all await _request, which follows redirects inside.
            wrap_function_wrapper(
                "aiohttp",
                "ClientSession._request",
                _aiohttp.request_wrapper(telemetry, aiohttp_responses),
            )
            # A WeCom response's call ends when the app reads its body, releases or closes it.
            wrap_function_wrapper(
                "aiohttp", "ClientResponse.read", _aiohttp.read_wrapper(aiohttp_responses)
            )
            wrap_function_wrapper(
                "aiohttp", "ClientResponse.release", _aiohttp.release_wrapper(aiohttp_responses)
            )
            wrap_function_wrapper(
                "aiohttp", "ClientResponse.close", _aiohttp.release_wrapper(aiohttp_responses)
            )

    def _uninstrument(self, **kwargs: Any) -> None:
        if _installed("httpx"):
            import httpx  # noqa: PLC0415

            unwrap(httpx.Client, "send")
            unwrap(httpx.AsyncClient, "send")
            unwrap(httpx.Response, "iter_bytes")
            unwrap(httpx.Response, "aiter_bytes")

        if _installed("requests"):
            import requests.models  # noqa: PLC0415
            import requests.sessions  # noqa: PLC0415

            unwrap(requests.sessions.Session, "send")
            unwrap(requests.models.Response, "iter_content")
            unwrap(requests.models.Response, "close")
            unwrap(requests.sessions.Session, "resolve_redirects")
            if _installed("opentelemetry.instrumentation.requests"):
                unwrap(requests.sessions.Session, "request")

        if _installed("aiohttp"):
            import aiohttp  # noqa: PLC0415

            unwrap(aiohttp.ClientSession, "_request")
            unwrap(aiohttp.ClientResponse, "read")
            unwrap(aiohttp.ClientResponse, "release")
            unwrap(aiohttp.ClientResponse, "close")

        _telemetry.activate(None)
