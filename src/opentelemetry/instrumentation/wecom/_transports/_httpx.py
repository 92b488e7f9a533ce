"""httpx adapter: ``Client.send`` and ``AsyncClient.send``, whatever the transport.

``send`` reads the body itself unless ``stream=True``; for streamed responses
the span stays open until the app closes the response, and the errcode comes
from the bytes the app iterated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from functools import partial
from typing import Any, Callable, Optional

import httpx

from opentelemetry.instrumentation.wecom._call import ResponseInfo, WeComCall
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom._transports._common import (
    Wrapper,
    begin_call,
    end_stream,
    may_record,
    observe,
    read_response_info,
)
from opentelemetry.instrumentation.wecom._transports._common import (
    send_wrapper as common_send_wrapper,
)
from opentelemetry.instrumentation.wecom._transports._streams import BodyWindows
from opentelemetry.instrumentation.wecom._url import RequestTarget, default_port


def send_wrapper(telemetry: Telemetry) -> Wrapper:
    """The wrapper of ``httpx.Client.send``, recording into ``telemetry``."""
    return common_send_wrapper(telemetry, _begin, _observe)


def async_send_wrapper(telemetry: Telemetry) -> Wrapper:
    """The wrapper of ``httpx.AsyncClient.send``, recording into ``telemetry``."""

    async def wrap_async_send(
        wrapped: Callable[..., Awaitable[httpx.Response]],
        instance: httpx.AsyncClient,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        call = _begin(telemetry, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        response = await call.run_async(wrapped, *args, **kwargs)
        _observe(call, response, streamed=bool(kwargs.get("stream", False)))
        return response

    return wrap_async_send


def read_response(result: object) -> Optional[ResponseInfo]:
    """What the core needs of ``result`` if it is an ``httpx.Response`` whose body was read."""
    if not isinstance(result, httpx.Response):
        return None
    try:
        body = result.content
    except httpx.ResponseNotRead:
        return None  # a streamed response the app has not read: never read it on its behalf
    return read_response_info(result.status_code, result.headers.get("content-type"), body)


@contained
def _begin(
    telemetry: Telemetry, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Optional[WeComCall]:
    if not may_record():
        return None
    request: httpx.Request = args[0] if args else kwargs["request"]
    url = request.url
    scheme = url.scheme
    port = url.port or default_port(scheme)
    if not telemetry.settings.is_wecom_host(url.host, port):
        return None
    target = RequestTarget(scheme, url.host, port, url.path, url.query.decode("ascii", "replace"))
    return begin_call(telemetry, request.method, target, partial(_request_body, request))


def _request_body(request: httpx.Request) -> Optional[bytes]:
    try:
        return request.content
    except httpx.RequestNotRead:
        return None  # a streamed upload: never read it on the app's behalf


@contained
def _observe(call: WeComCall, response: httpx.Response, *, streamed: bool) -> None:
    observe(call, response, read=not streamed, watch_stream=_watch_stream)


def _watch_stream(
    call: WeComCall, response: httpx.Response, info: ResponseInfo, windows: BodyWindows
) -> None:
    stream = response.stream
    if isinstance(stream, httpx.AsyncByteStream):
        response.stream = _ObservedAsyncStream(stream, call, info, windows)
    else:
        response.stream = _ObservedSyncStream(stream, call, info, windows)


class _ObservedSyncStream(httpx.SyncByteStream):
    """Passes the app's stream through unchanged, ending the call when the app closes it."""

    def __init__(
        self, inner: httpx.SyncByteStream, call: WeComCall, info: ResponseInfo, windows: BodyWindows
    ) -> None:
        self._inner = inner
        self._call = call
        self._info = info
        self._windows = windows

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._windows.feed(chunk)
                yield chunk
        except BaseException as exception:
            self._call.finish_exception(exception)
            raise

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            end_stream(self._call, self._info, self._windows)


class _ObservedAsyncStream(httpx.AsyncByteStream):
    """The async twin of :class:`_ObservedSyncStream`."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        call: WeComCall,
        info: ResponseInfo,
        windows: BodyWindows,
    ) -> None:
        self._inner = inner
        self._call = call
        self._info = info
        self._windows = windows

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._windows.feed(chunk)
                yield chunk
        except BaseException as exception:
            self._call.finish_exception(exception)
            raise

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            end_stream(self._call, self._info, self._windows)
