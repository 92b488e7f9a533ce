"""requests adapter: ``Session.send`` (which module-level ``requests.get`` and wechatpy use).

``Session.send`` consumes the body unless ``stream=True``. Redirect hops call
``send`` again inside the first call and are part of it: a call is recorded by
the URL the app asked for (``Session.resolve_redirects`` is wrapped for the
hops of a request to another host). ``Session.request``
is wrapped too, only to silence the stock requests instrumentation for WeCom
URLs even when it was installed after this one (its span would be the parent
and would carry the raw token).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any, Callable, Final, NamedTuple, Optional, Union

import requests
from opentelemetry.instrumentation.utils import suppress_http_instrumentation

from opentelemetry.instrumentation.wecom._call import (
    ResponseInfo,
    WeComCall,
    inside_call,
    part_of_another_call,
)
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
from opentelemetry.instrumentation.wecom._transports._streams import BodyWindows
from opentelemetry.instrumentation.wecom._url import target_of


def request_wrapper(telemetry: Telemetry) -> Wrapper:
    """The wrapper of ``requests.Session.request``: silences the stock instrumentation only."""

    def wrap_request(
        wrapped: Callable[..., requests.Response],
        instance: requests.Session,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> requests.Response:
        if not _stock_instrumentation_active(instance) or not _should_silence_http_spans(
            telemetry, args, kwargs
        ):
            return wrapped(*args, **kwargs)
        with suppress_http_instrumentation():
            return wrapped(*args, **kwargs)

    return wrap_request


def send_wrapper(telemetry: Telemetry, streams: Streams) -> Wrapper:
    """The wrapper of ``requests.Session.send``, recording into ``telemetry``.

    A streamed response's call ends when the app closes it (``close_wrapper``); its body is
    watched through ``iter_content_wrapper``.
    """
    return common_send_wrapper(telemetry, _begin, partial(_observe, streams))


def redirects_wrapper(telemetry: Telemetry) -> Wrapper:
    """The wrapper of ``requests.Session.resolve_redirects``: hops are never calls of their own.

    A call is recorded by the URL the app asked for (as with httpx, whose ``send``
    sees only that one): the hops of a WeCom call run inside its span already;
    the hops of a request to another host, even into WeCom, are not recorded.
    """

    def wrap_resolve_redirects(
        wrapped: Callable[..., Iterator[Any]],
        instance: requests.Session,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Iterator[Any]:
        hops = wrapped(*args, **kwargs)
        if inside_call():
            return hops
        return _hops_of_another_call(hops)

    return wrap_resolve_redirects


def _hops_of_another_call(hops: Iterator[Any]) -> Iterator[Any]:
    """``hops``, each one sent in a context that marks it part of the app's request."""
    try:
        while True:
            with part_of_another_call():
                try:
                    hop = next(hops)
                except StopIteration:
                    return
            yield hop
    finally:
        close = getattr(hops, "close", None)
        if close is not None:
            close()


def read_response(result: object) -> Optional[ResponseInfo]:
    """What the core needs of ``result`` if it is a ``requests.Response`` whose body was read."""
    # requests has no public "has the body been read" test; reading ``content`` of a
    # streamed response would consume it on the app's behalf.
    if not isinstance(result, requests.Response) or not getattr(result, "_content_consumed", False):
        return None
    body = result.content
    if not isinstance(body, bytes):
        return None
    return read_response_info(result.status_code, result.headers.get("content-type"), body)


_STOCK_MARKER: Final = "opentelemetry_instrumentation_requests_applied"
# (the ``send`` attribute last looked at, whether it carried the marker).
_last_send: tuple[object, bool] = (None, False)


def _stock_instrumentation_active(session: requests.Session) -> bool:
    """Whether opentelemetry-instrumentation-requests has patched ``Session.send``.

    Its marker is visible through our wrapt wrapper too, whichever was installed last.
    Reading it through the wrapper costs an AttributeError inside wrapt (about 7 us) when
    it is absent, so the answer is kept for the ``send`` object it was read from: a new
    object (either instrumentation installed or removed) is read again.
    """
    global _last_send  # noqa: PLW0603 - a one-entry cache, replaced whole (atomic)
    send = _class_attribute(type(session), "send")
    cached, active = _last_send
    if send is not cached:
        active = bool(getattr(send, _STOCK_MARKER, False))
        _last_send = (send, active)
    return active


def _class_attribute(cls: type, name: str) -> object:
    """``cls.name`` as stored in the class dictionary, without running its descriptor."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


@contained
def _should_silence_http_spans(
    telemetry: Telemetry, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> bool:
    if telemetry.settings.keep_http_spans or inside_call():
        return False
    url = args[1] if len(args) > 1 else kwargs.get("url")
    if isinstance(url, bytes):
        url = url.decode("ascii", "replace")
    if not isinstance(url, str):
        return False
    target = target_of(url)
    return target is not None and telemetry.settings.is_wecom_host(target.host, target.port)


@contained
def _begin(
    telemetry: Telemetry, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Optional[WeComCall]:
    if not may_record():
        return None
    request: requests.PreparedRequest = args[0] if args else kwargs["request"]
    if not request.url:
        return None
    target = target_of(request.url)
    if target is None or not telemetry.settings.is_wecom_host(target.host, target.port):
        return None
    method = request.method or "GET"
    return begin_call(telemetry, method, target, partial(_request_body, request))


def _request_body(request: requests.PreparedRequest) -> Optional[bytes]:
    body = request.body
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", "replace")
    return None  # a generator or file upload: never read it on the app's behalf


class _Stream(NamedTuple):
    """A streamed WeCom response's call, head and the windows its body feeds."""

    call: WeComCall
    info: ResponseInfo
    windows: BodyWindows


Streams = Watches[requests.Response, _Stream]
"""The streamed WeCom responses the app has not closed yet, shared by the wrappers below."""


@contained
def _observe(
    streams: Streams, call: WeComCall, response: requests.Response, *, streamed: bool
) -> None:
    read = not streamed and getattr(response, "_content_consumed", False)
    observe(call, response, read=read, watch_stream=partial(_watch_stream, streams))


def _watch_stream(
    streams: Streams,
    call: WeComCall,
    response: requests.Response,
    info: ResponseInfo,
    windows: BodyWindows,
) -> Callable[[], None]:
    streams.add(response, _Stream(call, info, windows))
    # Dropping a response is closing it: the call ends with what the app read of the body
    # (``requests.get(url, stream=True).json()`` reads it all and never closes).
    return partial(end_stream, call, info, windows)


def iter_content_wrapper(streams: Streams) -> Wrapper:
    """The wrapper of ``requests.Response.iter_content``: a watched response's chunks feed its call.

    ``content``, ``text``, ``json()`` and ``iter_lines()`` all read through ``iter_content``.
    """

    def wrap_iter_content(
        wrapped: Callable[..., Iterator[Union[bytes, str]]],
        instance: requests.Response,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Iterator[Union[bytes, str]]:
        # Called, not iterated: what iter_content() raises when called (a consumed body, a
        # bad chunk_size) is raised here and now, as without instrumentation, and is the
        # app's misuse, not the call's failure.
        chunks = wrapped(*args, **kwargs)
        stream = streams.get(instance)
        return chunks if stream is None else _watched(chunks, stream.call, stream.windows)

    return wrap_iter_content


def close_wrapper(streams: Streams) -> Wrapper:
    """The wrapper of ``requests.Response.close``: closing a watched response ends its call."""

    def wrap_close(
        wrapped: Callable[..., None],
        instance: requests.Response,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        try:
            wrapped(*args, **kwargs)
        finally:
            stream = streams.pop(instance)
            if stream is not None:
                end_stream(stream.call, stream.info, stream.windows)

    return wrap_close


def _watched(
    chunks: Iterator[Union[bytes, str]], call: WeComCall, windows: BodyWindows
) -> Iterator[Union[bytes, str]]:
    """The chunks of ``iter_content``, fed to ``windows``; a read error ends the call.

    ``GeneratorExit`` is the app stopping early: it closes the response next.
    """
    try:
        for chunk in chunks:
            windows.feed(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            yield chunk
    except GeneratorExit:
        raise
    except BaseException as exception:
        call.finish_exception(exception)
        raise
