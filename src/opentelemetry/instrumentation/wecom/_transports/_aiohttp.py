"""aiohttp adapter: ``ClientSession._request``, which ``get``/``post``/``request`` all await.

``_request`` returns once the headers have arrived; aiohttp never reads the body on its own.
The call ends when the app has the body (``read()``, and so ``text()`` and ``json()``, which
read through it), with the errcode in that body; or, for a body the app streams from
``response.content`` or never reads, when the app releases or closes the response (``async
with`` does) or drops it, with the status only, or with the exception the app got from the
stream. Redirects followed inside ``_request`` belong
to its one call. While ``_request`` runs, the stock aiohttp-client instrumentation is silenced
for WeCom calls, unless ``keep_http_spans`` is set: its ``on_request_start`` honours
``suppress_http_instrumentation`` from 0.60b0 on; before that it honoured only the general
``suppress_instrumentation``, which then covers the WeCom ``_request`` too.

``ClientResponse.read``, ``release`` and ``close`` are wrapped on the class; the state of a WeCom
response lives beside it (``Responses``), never on it, so a response the app drops is freed,
and its abandoned call ended, as soon as it would be without instrumentation, and a method
called on a response nothing else refers to (``await (await session.get(url)).read()``) works.
"""

from __future__ import annotations

import json
import re
import sys
import weakref
from collections.abc import Awaitable
from importlib import metadata
from typing import Any, Callable, Optional

import aiohttp
from opentelemetry.instrumentation.utils import suppress_instrumentation
from yarl import URL

from opentelemetry.instrumentation.wecom._call import ResponseInfo, WeComCall
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom._transports._common import (
    Watches,
    Wrapper,
    begin_call,
    finish_read,
    may_record,
    read_response_info,
    streamed_response_info,
)
from opentelemetry.instrumentation.wecom._url import RequestTarget, default_port

_STOCK_DISTRIBUTION = "opentelemetry-instrumentation-aiohttp-client"
_HONOURS_HTTP_SUPPRESSION = (0, 60)  # 0.60b0


def request_wrapper(telemetry: Telemetry, responses: Responses) -> Wrapper:
    """The wrapper of ``aiohttp.ClientSession._request``, recording into ``telemetry``.

    The call of a WeCom response ends through ``read_wrapper`` and ``release_wrapper``.
    """
    quiet_everything = not telemetry.settings.keep_http_spans and _stock_ignores_http_suppression()

    async def wrap_request(
        wrapped: Callable[..., Awaitable[aiohttp.ClientResponse]],
        instance: aiohttp.ClientSession,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> aiohttp.ClientResponse:
        call = _begin(telemetry, instance, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        if quiet_everything:
            with suppress_instrumentation():
                response = await call.run_async(wrapped, *args, **kwargs)
        else:
            response = await call.run_async(wrapped, *args, **kwargs)
        _observe(responses, call, response)
        return response

    return wrap_request


def read_wrapper(responses: Responses) -> Wrapper:
    """The wrapper of ``ClientResponse.read`` (``text()`` and ``json()`` read through it).

    The call ends with the body and its errcode, or with the exception the app gets.
    """

    async def wrap_read(
        wrapped: Callable[..., Awaitable[bytes]],
        instance: aiohttp.ClientResponse,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> bytes:
        observed = responses.get(instance)
        if observed is None:
            return await wrapped(*args, **kwargs)
        observed.reading = True
        try:
            body = await wrapped(*args, **kwargs)
        except BaseException as exception:
            observed.call.finish_exception(exception)
            raise
        finally:
            observed.reading = False
        _finish_read(observed, body)
        return body

    return wrap_read


def release_wrapper(responses: Responses) -> Wrapper:
    """The wrapper of ``ClientResponse.release`` and ``close``: the call ends, if it has not.

    It ends with the exception the app got from a stream of the body (``response.content``),
    as a failed ``read`` does, else with the status. ``read`` failing makes aiohttp close the
    response inside it: the call then ends with the exception, not with the close.
    """

    def wrap_release(
        wrapped: Callable[..., Any],
        instance: aiohttp.ClientResponse,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        observed = responses.get(instance)
        if observed is None or observed.reading:
            return wrapped(*args, **kwargs)
        failure = _stream_failure(instance)  # before aiohttp marks the content closed
        try:
            return wrapped(*args, **kwargs)
        finally:
            if failure is None:
                observed.call.finish_response(observed.info)
            else:
                observed.call.finish_exception(failure)

    return wrap_release


def _stock_ignores_http_suppression() -> bool:
    """Whether an installed stock aiohttp-client instrumentation predates 0.60b0."""
    try:
        version = metadata.version(_STOCK_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    release = re.match(r"(\d+)\.(\d+)", version)
    return release is not None and (int(release[1]), int(release[2])) < _HONOURS_HTTP_SUPPRESSION


def read_response(result: object) -> Optional[ResponseInfo]:
    """What the core needs of ``result`` if it is a ``ClientResponse`` whose body was read."""
    if not isinstance(result, aiohttp.ClientResponse):
        return None
    # aiohttp has no public "has the body been read" test; reading it here would consume it.
    body = getattr(result, "_body", None)
    if not isinstance(body, bytes):
        return None
    return read_response_info(result.status, result.headers.get("Content-Type"), body)


@contained
def _begin(
    telemetry: Telemetry,
    session: aiohttp.ClientSession,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Optional[WeComCall]:
    if not may_record():
        return None
    method = args[0] if args else kwargs["method"]
    str_or_url = args[1] if len(args) > 1 else kwargs["str_or_url"]
    url = _full_url(session, str_or_url, kwargs.get("params"))
    host = url.host
    if not host:
        return None
    port = url.port or default_port(url.scheme)
    if not telemetry.settings.is_wecom_host(host, port):
        return None
    target = RequestTarget(url.scheme, host, port, url.path, url.raw_query_string)
    return begin_call(telemetry, str(method).upper(), target, _RequestBody(session, kwargs))


def _full_url(session: aiohttp.ClientSession, str_or_url: Any, params: Any) -> URL:
    """The URL aiohttp will request: the session's ``base_url`` joined, ``params`` added."""
    build = getattr(session, "_build_url", None)  # base_url support (aiohttp >= 3.8)
    url = build(str_or_url) if build is not None else URL(str_or_url)
    if params:
        extend = getattr(url, "extend_query", None) or url.update_query  # yarl >= 1.9
        url = extend(params)
    return url


class _RequestBody:
    """The request body, serialised at most once however often it is asked for (the message
    hooks before and after the call, the retry fingerprint)."""

    __slots__ = ("_body", "_kwargs", "_read", "_session")

    def __init__(self, session: aiohttp.ClientSession, kwargs: dict[str, Any]) -> None:
        self._session = session
        self._kwargs = kwargs
        self._body: Optional[bytes] = None
        self._read = False

    def __call__(self) -> Optional[bytes]:
        if not self._read:
            self._body = _request_body(self._session, self._kwargs)
            self._read = True
        return self._body


def _request_body(session: aiohttp.ClientSession, kwargs: dict[str, Any]) -> Optional[bytes]:
    """The request body if it is in memory (``json=`` serialised as the session does)."""
    payload = kwargs.get("json")
    if payload is not None:
        serialize = getattr(session, "_json_serialize", json.dumps)
        text = serialize(payload)
        return text.encode("utf-8") if isinstance(text, str) else None
    data = kwargs.get("data")
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    return None  # a form, a file or a stream: never read it on the app's behalf


class _Observed:
    """A WeCom response's call and head, and whether ``read`` is running."""

    __slots__ = ("call", "info", "reading")

    def __init__(self, call: WeComCall, info: ResponseInfo) -> None:
        self.call = call
        self.info = info
        self.reading = False


Responses = Watches[aiohttp.ClientResponse, _Observed]
"""The WeCom responses the wrappers above observe."""


@contained
def _observe(responses: Responses, call: WeComCall, response: aiohttp.ClientResponse) -> None:
    headers = response.headers
    info = streamed_response_info(
        response.status, headers.get("Content-Type"), headers.get("Content-Length")
    )
    responses.add(response, _Observed(call, info))
    weakref.finalize(response, call.abandon)


@contained
def _stream_failure(response: aiohttp.ClientResponse) -> Optional[BaseException]:
    """The exception the body's stream (``response.content``) failed with, if the app got it:
    the connection lost before the end of the body, a bad chunk, a decompression error.

    The app got it when it is the exception being handled as the response is released: it
    propagates through ``async with``, or the app releases in its ``except``. A stream that
    failed after the app stopped reading is no failure of the app's (the call ends with its
    status). Called before ``release``/``close``, which mark the stream closed with an
    exception of their own.
    """
    content = response.content
    failure = content.exception() if content is not None else None
    if failure is None or failure is not sys.exc_info()[1]:
        return None
    return failure


@contained
def _finish_read(observed: _Observed, body: bytes) -> None:
    finish_read(observed.call, observed.info._replace(content_length=len(body), body=body))
