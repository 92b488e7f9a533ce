"""httpx adapter: ``Client.send`` and ``AsyncClient.send``, whatever the transport.

``send`` reads the body itself unless ``stream=True``; for streamed responses
the span stays open until the app closes the response, and the errcode comes
from the bytes the app iterated. A streamed response's ``stream`` is replaced by one that
watches it; ``Response.iter_bytes`` and ``aiter_bytes`` (through which ``read``, ``iter_text``
and ``iter_lines`` decode) are wrapped on the class and find a WeCom response's watch in
``Streams``.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Iterator
from functools import partial
from typing import Any, Callable, NamedTuple, Optional

import httpx

from opentelemetry.instrumentation.wecom._call import ResponseInfo, WeComCall
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom._transports._common import (
    Watches,
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
from opentelemetry.instrumentation.wecom._transports._streams import BodyWindows, StreamWatch
from opentelemetry.instrumentation.wecom._url import RequestTarget, default_port


class _Stream(NamedTuple):
    """A streamed WeCom response's call and the watch of its body."""

    call: WeComCall
    watch: StreamWatch


Streams = Watches[httpx.Response, _Stream]
"""The streamed WeCom responses the app has not closed yet, shared by the wrappers below."""


def send_wrapper(telemetry: Telemetry, streams: Streams) -> Wrapper:
    """The wrapper of ``httpx.Client.send``, recording into ``telemetry``."""
    return common_send_wrapper(telemetry, _begin, partial(_observe, streams))


def async_send_wrapper(telemetry: Telemetry, streams: Streams) -> Wrapper:
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
        _observe(streams, call, response, streamed=bool(kwargs.get("stream", False)))
        return response

    return wrap_async_send


def iter_bytes_wrapper(streams: Streams) -> Wrapper:
    """The wrapper of ``httpx.Response.iter_bytes`` (which ``read``, ``iter_text`` and
    ``iter_lines`` use): a watched response's decoded chunks feed its call.

    Decoding (gzip, deflate, br) happens here, not in the stream: a ``DecodingError``
    passes only through this method, and the errcode of an encoded body is only
    readable in what it yields.
    """

    def wrap_iter_bytes(
        wrapped: Callable[..., Iterator[bytes]],
        instance: httpx.Response,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Iterator[bytes]:
        chunks = wrapped(*args, **kwargs)  # a generator: nothing runs before the first next()
        stream = streams.get(instance)
        return chunks if stream is None else _observed_chunks(chunks, stream.call, stream.watch)

    return wrap_iter_bytes


def aiter_bytes_wrapper(streams: Streams) -> Wrapper:
    """The async twin of :func:`iter_bytes_wrapper`, for ``httpx.Response.aiter_bytes``."""

    def wrap_aiter_bytes(
        wrapped: Callable[..., AsyncIterator[bytes]],
        instance: httpx.Response,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> AsyncIterator[bytes]:
        chunks = wrapped(*args, **kwargs)
        stream = streams.get(instance)
        if stream is None:
            return chunks
        return _observed_async_chunks(chunks, stream.call, stream.watch)

    return wrap_aiter_bytes


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
def _observe(
    streams: Streams, call: WeComCall, response: httpx.Response, *, streamed: bool
) -> None:
    # A streamed response that is already closed came whole from its transport
    # (``httpx.MockTransport``, a caching transport): its body is in memory now.
    read = not streamed or _read_whole(response)
    observe(call, response, read=read, watch_stream=partial(_watch_stream, streams))


def _read_whole(response: httpx.Response) -> bool:
    if not response.is_closed:
        return False
    try:
        response.content  # noqa: B018
    except httpx.ResponseNotRead:
        return False
    return True


def _watch_stream(
    streams: Streams,
    call: WeComCall,
    response: httpx.Response,
    info: ResponseInfo,
    windows: BodyWindows,
) -> Callable[[], None]:
    watch = StreamWatch(windows)
    streams.add(response, _Stream(call, watch))
    ended = partial(_end, streams, call, info, watch, weakref.ref(response))
    stream = response.stream
    if isinstance(stream, httpx.AsyncByteStream):
        response.stream = _ObservedAsyncStream(stream, call, watch, ended)
    else:
        response.stream = _ObservedSyncStream(stream, call, watch, ended)
    return call.abandon


@contained
def _end(
    streams: Streams,
    call: WeComCall,
    info: ResponseInfo,
    watch: StreamWatch,
    response: weakref.ReferenceType[httpx.Response],
) -> None:
    """The app closed the response: end the call; its chunks are no longer watched."""
    end_stream(call, info, watch)
    closed = response()
    if closed is not None:
        streams.pop(closed)


def _failed(call: WeComCall, exception: BaseException) -> None:
    """End the call with an exception the app sees while reading the stream.

    Not for ``GeneratorExit`` (the app stopped iterating: it closes the response
    next, which ends the call) nor for httpx's ``StreamError`` s (reading a stream
    twice, after closing it ...: the app's misuse, raised before any byte is read).
    """
    if not isinstance(exception, (GeneratorExit, httpx.StreamError)):
        call.finish_exception(exception)


def _observed_chunks(
    chunks: Iterator[bytes], call: WeComCall, watch: StreamWatch
) -> Iterator[bytes]:
    """The decoded ``chunks`` of a watched response, fed to ``watch``."""
    watch.reader_resumed()
    try:
        for chunk in chunks:
            watch.decoded.feed(chunk)
            watch.reader_suspended()
            try:
                yield chunk
            finally:
                watch.reader_resumed()
    except BaseException as exception:
        _failed(call, exception)
        raise
    finally:
        watch.reader_suspended()


async def _observed_async_chunks(
    chunks: AsyncIterator[bytes], call: WeComCall, watch: StreamWatch
) -> AsyncIterator[bytes]:
    """The async twin of :func:`_observed_chunks`."""
    watch.reader_resumed()
    try:
        async for chunk in chunks:
            watch.decoded.feed(chunk)
            watch.reader_suspended()
            try:
                yield chunk
            finally:
                watch.reader_resumed()
    except BaseException as exception:
        _failed(call, exception)
        raise
    finally:
        watch.reader_suspended()


class _ObservedSyncStream(httpx.SyncByteStream):
    """Passes the app's stream through unchanged, ending the call when the app closes it."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        call: WeComCall,
        watch: StreamWatch,
        ended: Callable[[], None],
    ) -> None:
        self._inner = inner
        self._call = call
        self._watch = watch
        self._ended = ended

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._watch.raw.feed(chunk)
                yield chunk
        except BaseException as exception:
            _failed(self._call, exception)
            raise

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._watch.close(self._ended)


class _ObservedAsyncStream(httpx.AsyncByteStream):
    """The async twin of :class:`_ObservedSyncStream`."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        call: WeComCall,
        watch: StreamWatch,
        ended: Callable[[], None],
    ) -> None:
        self._inner = inner
        self._call = call
        self._watch = watch
        self._ended = ended

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._watch.raw.feed(chunk)
                yield chunk
        except BaseException as exception:
            _failed(self._call, exception)
            raise

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._watch.close(self._ended)
