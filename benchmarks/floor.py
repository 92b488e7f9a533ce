"""The cheapest instrumentation that records what (c) records: the SDK floor.

One ``wrapt`` wrapper on the client's ``send`` that starts a CLIENT span with
the four sampling attributes, makes it current, sets three outcome attributes,
ends it and records one histogram point: no URL parsing, no redaction, no body
scan, no extension. Whatever (c) costs above this row is the instrumentation's
own work; this row is what any design on the same SDK pays at least.
"""

from __future__ import annotations

import time
from contextvars import Token
from typing import Any, Callable, Final

import aiohttp
import httpx
import requests
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, SpanKind, TracerProvider
from wrapt import wrap_function_wrapper

from opentelemetry import context, trace
from opentelemetry.instrumentation.wecom._attributes import DURATION_BUCKETS

FLOOR_SCOPE: Final = "benchmarks.floor"
# (module, "Class.method", class, method): what the floor wraps for each client.
_TARGETS: Final = {
    "httpx": ("httpx", "Client.send", httpx.Client, "send"),
    "requests": ("requests.sessions", "Session.send", requests.Session, "send"),
    "aiohttp": ("aiohttp", "ClientSession._request", aiohttp.ClientSession, "_request"),
}


class FloorInstrumentation:
    """Installs the floor wrapper on one library's ``send``; ``uninstrument()`` removes it."""

    def __init__(
        self, library: str, tracer_provider: TracerProvider, meter_provider: MeterProvider
    ) -> None:
        self._library = library
        self._module, self._method, self._class, self._name = _TARGETS[library]
        self._tracer = tracer_provider.get_tracer(FLOOR_SCOPE)
        self._duration = meter_provider.get_meter(FLOOR_SCOPE).create_histogram(
            "floor.duration", unit="s", explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS)
        )

    def instrument(self) -> None:
        wrapper = self._request_async if self._library == "aiohttp" else self._send
        wrap_function_wrapper(self._module, self._method, wrapper)

    def uninstrument(self) -> None:
        unwrap(self._class, self._name)

    def _send(
        self,
        wrapped: Callable[..., Any],
        instance: object,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        start, span, token = self._start()
        try:
            response = wrapped(*args, **kwargs)
        finally:
            context.detach(token)
        self._end(start, span, response.status_code)
        return response

    async def _request_async(
        self,
        wrapped: Callable[..., Any],
        instance: object,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        start, span, token = self._start()
        try:
            response = await wrapped(*args, **kwargs)
        finally:
            context.detach(token)
        self._end(start, span, response.status)
        return response

    def _start(self) -> tuple[int, Span, Token[Context]]:
        start = time.time_ns()
        span = self._tracer.start_span(
            "wecom message/send",
            kind=SpanKind.CLIENT,
            start_time=start,
            attributes={
                "wecom.api": "message/send",
                "http.request.method": "POST",
                "server.address": "127.0.0.1",
                "server.port": 80,
            },
        )
        return start, span, context.attach(trace.set_span_in_context(span))

    def _end(self, start: int, span: Span, status_code: int) -> None:
        end = time.time_ns()
        span.set_attributes(
            {"wecom.status": "ok", "wecom.errcode": 0, "http.response.status_code": status_code}
        )
        span.end(end_time=end)
        self._duration.record(
            (end - start) / 1e9,
            {"wecom.api": "message/send", "wecom.status": "ok", "wecom.errcode": 0},
        )
