"""Client modes: one way an app uses an HTTP client, recorded as what the app observes.

A mode makes one call and writes every observation into :class:`Seen`, in
order: status, headers, bytes or chunks, parsed JSON, and any exception with
the step that raised it. The differential test runs each mode bare and
instrumented and compares the two lists, so a different value, a different
exception or the same exception raised at another step is a difference.

Adding a client mode is one small class (``AiohttpRead`` below is a complete one):
subclass :class:`Mode` (or :class:`AsyncMode` and write ``run_async``), set ``name``, make
the call, record what the app observes with ``seen.add(...)``, and add an instance to
:data:`MODES`. Set ``seen.stage`` before each step: an exception that escapes ``run`` is
recorded with the stage it escaped from, and the stages ``send`` and ``iterate`` are the
call's own failures (the span must record exactly that exception); anything recorded with
:meth:`Seen.attempt` under another stage (``json``, ``misuse``) is the app's business and
must not mark the call failed. A mode that does not go through the loopback server
overrides ``url_for`` (see :class:`HttpxMockTransportStream`); the class attributes
``reads_all``, ``decodes`` and ``observes_reads`` tell the checks what the mode lets the
instrumentation see.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Optional

import aiohttp
import httpx
import requests

from ._responses import Case

CALL_STAGES = frozenset({"send", "iterate"})
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_TRAILING_DATA = re.compile(r"(Data after `Connection: close`:).*?(?=\", url=|$)", re.DOTALL)
"""aiohttp quotes the bytes that came with the head in the same socket read: how many
depends on timing (the long run saw one bare/instrumented difference, docs/fuzzing.md)."""
_SSL = ssl.create_default_context()  # one context: building one per client costs ~20 ms
_TIMEOUT = 10.0


@dataclass(frozen=True)
class Request:
    """The call an app makes: the first URL (maybe redirected) and the direct WeCom URL."""

    method: str
    url: str
    direct_url: str
    json: Optional[dict[str, Any]]
    case: Case


@dataclass
class Seen:
    """What the app observed, in order."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    stage: str = "send"

    def add(self, *event: Any) -> None:
        self.events.append(event)

    def raised(self, stage: str, exception: BaseException) -> None:
        message = _TRAILING_DATA.sub(r"\1 ...", _ADDRESS.sub("0x?", str(exception)))
        self.add("raised", stage, type(exception).__module__, type(exception).__qualname__, message)

    def attempt(self, stage: str, step: Callable[[], Any]) -> Any:
        """Run an app step that may raise; record its result or its exception, and go on."""
        try:
            result = step()
        except Exception as exception:
            self.raised(stage, exception)
            return None
        self.add(stage, result)
        return result

    def call_exception(self) -> Optional[tuple[Any, ...]]:
        """The exception the call itself raised to the app, if any (the last event then)."""
        if self.events and self.events[-1][0] == "raised" and self.events[-1][1] in CALL_STAGES:
            return self.events[-1]
        return None


class Mode:
    """One way of making a call. Subclasses set ``name`` and implement ``run``."""

    name: ClassVar[str]
    reads_all: ClassVar[bool] = True
    """False for a mode that stops reading early (its span cannot know the whole body)."""
    decodes: ClassVar[bool] = True
    """False for a mode that reads the raw, still encoded, bytes."""
    observes_reads: ClassVar[bool] = True
    """False where the instrumentation cannot see the app's reads of the body (aiohttp's
    ``response.content``, a ``StreamReader`` with ``__slots__``; docs/telemetry.md): its span
    then has no errcode. A read error the app gets is still recorded (when the response is
    released with it propagating) and checked like any other."""

    def run(self, request: Request, seen: Seen) -> None:
        raise NotImplementedError

    def url_for(self, request: Request) -> str:
        return request.url

    def observe(self, request: Request) -> Seen:
        seen = Seen()
        try:
            self.run(request, seen)
        except Exception as exception:
            seen.raised(seen.stage, exception)
        return seen


class AsyncMode(Mode):
    """A mode written as a coroutine; each call runs in its own event loop."""

    async def run_async(self, request: Request, seen: Seen) -> None:
        raise NotImplementedError

    def run(self, request: Request, seen: Seen) -> None:
        asyncio.run(self.run_async(request, seen))


# -- httpx ---------------------------------------------------------------------------------------


def _httpx_client(**options: Any) -> httpx.Client:
    return httpx.Client(verify=_SSL, follow_redirects=True, timeout=_TIMEOUT, **options)


def _httpx_async_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=_SSL, follow_redirects=True, timeout=_TIMEOUT)


def _httpx_head(seen: Seen, response: httpx.Response) -> None:
    seen.add("status", response.status_code, response.reason_phrase, response.http_version)
    seen.add("headers", list(response.headers.raw))
    seen.add("url", str(response.url), len(response.history))


@contextmanager
def _httpx_streamed(
    request: Request, seen: Seen, url: Optional[str] = None, **options: Any
) -> Iterator[httpx.Response]:
    """A streamed httpx call at ``url`` (the request's own by default), its head recorded;
    the stage is ``iterate`` inside the block."""
    with (
        _httpx_client(**options) as client,
        client.stream(request.method, url or request.url, json=request.json) as response,
    ):
        _httpx_head(seen, response)
        seen.stage = "iterate"
        yield response


@asynccontextmanager
async def _httpx_async_streamed(request: Request, seen: Seen) -> AsyncIterator[httpx.Response]:
    """:func:`_httpx_streamed` on the async client."""
    async with (
        _httpx_async_client() as client,
        client.stream(request.method, request.url, json=request.json) as response,
    ):
        _httpx_head(seen, response)
        seen.stage = "iterate"
        yield response


class HttpxRead(Mode):
    name = "httpx-read"

    def run(self, request: Request, seen: Seen) -> None:
        with _httpx_client() as client:
            response = client.request(request.method, request.url, json=request.json)
            _httpx_head(seen, response)
            seen.add("content", response.content)
            seen.add("text", response.text)
            seen.attempt("json", response.json)


class HttpxStreamBytes(Mode):
    name = "httpx-stream-iter_bytes"

    def run(self, request: Request, seen: Seen) -> None:
        with _httpx_streamed(request, seen) as response:
            for chunk in response.iter_bytes(1000):
                seen.add("chunk", chunk)


class HttpxStreamRaw(Mode):
    name = "httpx-stream-iter_raw"
    decodes = False

    def run(self, request: Request, seen: Seen) -> None:
        with _httpx_streamed(request, seen) as response:
            for chunk in response.iter_raw(1000):
                seen.add("chunk", chunk)


class HttpxStreamLines(Mode):
    name = "httpx-stream-iter_lines"

    def run(self, request: Request, seen: Seen) -> None:
        with _httpx_streamed(request, seen) as response:
            for line in response.iter_lines():
                seen.add("line", line)


class HttpxStreamRead(Mode):
    name = "httpx-stream-read"

    def run(self, request: Request, seen: Seen) -> None:
        with _httpx_streamed(request, seen) as response:
            seen.add("content", response.read())
            seen.attempt("json", response.json)


class HttpxEarlyClose(Mode):
    name = "httpx-stream-early-close"
    reads_all = False

    def run(self, request: Request, seen: Seen) -> None:
        with _httpx_streamed(request, seen) as response:
            for chunk in response.iter_bytes(100):
                seen.add("chunk", chunk)
                break


class HttpxMockTransportStream(Mode):
    """httpx's own ``MockTransport`` (no socket): the response body is in memory from the start."""

    name = "httpx-mocktransport-stream"

    def url_for(self, request: Request) -> str:
        return request.direct_url

    def run(self, request: Request, seen: Seen) -> None:
        case = request.case

        def answer(_: httpx.Request) -> httpx.Response:
            headers = [(b"X-Wire", b"odd")]
            if case.content_type is not None:
                headers.append((b"Content-Type", case.content_type.encode("latin-1")))
            if case.content_encoding is not None:
                headers.append((b"Content-Encoding", case.content_encoding.encode("latin-1")))
            return httpx.Response(case.status, headers=headers, content=case.body)

        transport = httpx.MockTransport(answer)
        with _httpx_streamed(request, seen, request.direct_url, transport=transport) as response:
            seen.add("content", response.read())


class AsyncHttpxRead(AsyncMode):
    name = "httpx-async-read"

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with _httpx_async_client() as client:
            response = await client.request(request.method, request.url, json=request.json)
            _httpx_head(seen, response)
            seen.add("content", response.content)
            seen.attempt("json", response.json)


class AsyncHttpxStreamBytes(AsyncMode):
    name = "httpx-async-stream-aiter_bytes"

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with _httpx_async_streamed(request, seen) as response:
            async for chunk in response.aiter_bytes(1000):
                seen.add("chunk", chunk)


class AsyncHttpxEarlyClose(AsyncMode):
    name = "httpx-async-stream-early-close"
    reads_all = False

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with _httpx_async_streamed(request, seen) as response:
            async for chunk in response.aiter_bytes(100):
                seen.add("chunk", chunk)
                break


# -- requests ------------------------------------------------------------------------------------


def _requests_send(session: requests.Session, request: Request, **options: Any) -> Any:
    return session.request(
        request.method, request.url, json=request.json, timeout=_TIMEOUT, **options
    )


def _requests_head(seen: Seen, response: requests.Response) -> None:
    seen.add("status", response.status_code, response.reason)
    seen.add("headers", sorted(response.headers.items()))
    seen.add("url", response.url, len(response.history))


@contextmanager
def _requests_streamed(request: Request, seen: Seen) -> Iterator[requests.Response]:
    """A ``stream=True`` requests call, its head recorded."""
    with requests.Session() as session, _requests_send(session, request, stream=True) as response:
        _requests_head(seen, response)
        yield response


class RequestsRead(Mode):
    name = "requests-read"

    def run(self, request: Request, seen: Seen) -> None:
        with requests.Session() as session:
            response = _requests_send(session, request)
            _requests_head(seen, response)
            seen.add("content", response.content)
            seen.attempt("json", response.json)


class RequestsStreamContent(Mode):
    name = "requests-stream-iter_content"

    def run(self, request: Request, seen: Seen) -> None:
        with _requests_streamed(request, seen) as r:
            seen.stage = "iterate"
            for chunk in r.iter_content(777):
                seen.add("chunk", chunk)


class RequestsIterLines(Mode):
    name = "requests-stream-iter_lines"

    def run(self, request: Request, seen: Seen) -> None:
        with _requests_streamed(request, seen) as r:
            seen.stage = "iterate"
            for line in r.iter_lines():
                seen.add("line", line)


class RequestsEarlyClose(Mode):
    name = "requests-stream-early-close"
    reads_all = False

    def run(self, request: Request, seen: Seen) -> None:
        with requests.Session() as session:
            response = _requests_send(session, request, stream=True)
            _requests_head(seen, response)
            seen.stage = "iterate"
            for chunk in response.iter_content(100):
                seen.add("chunk", chunk)
                break
            response.close()


class RequestsIterContentMisuse(Mode):
    """The errors ``iter_content()`` itself raises: a bad chunk size, a body already consumed."""

    name = "requests-iter_content-misuse"

    def run(self, request: Request, seen: Seen) -> None:
        with _requests_streamed(request, seen) as r:
            seen.attempt("misuse", lambda: _called(r.iter_content, "ten"))
            seen.stage = "iterate"
            for chunk in r.iter_content(4096):
                seen.add("chunk", chunk)
            seen.attempt("misuse", lambda: _called(r.iter_content, 10))


def _called(method: Callable[..., Iterator[Any]], *args: Any) -> str:
    """Call without iterating: whether the call itself raised is what is observed."""
    method(*args)
    return "returned"


# -- aiohttp ---------------------------------------------------------------------------------------


def _aiohttp_head(seen: Seen, response: aiohttp.ClientResponse) -> None:
    seen.add("status", response.status, response.reason)
    seen.add("headers", list(response.raw_headers))
    seen.add("url", str(response.url), len(response.history))


@asynccontextmanager
async def _aiohttp_response(
    request: Request, seen: Seen, **session_options: Any
) -> AsyncIterator[aiohttp.ClientResponse]:
    """An aiohttp call in ``async with``, its head recorded; the stage is ``iterate`` inside."""
    async with (
        aiohttp.ClientSession(**session_options) as session,
        session.request(request.method, request.url, json=request.json) as response,
    ):
        _aiohttp_head(seen, response)
        seen.stage = "iterate"
        yield response


class AiohttpRead(AsyncMode):
    name = "aiohttp-read"

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with _aiohttp_response(request, seen) as response:
            seen.add("content", await response.read())
            seen.stage = "json"
            seen.add("json", await response.json(content_type=None))


class AiohttpStreamContent(AsyncMode):
    name = "aiohttp-stream-iter_chunked"
    observes_reads = False

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with _aiohttp_response(request, seen) as response:
            # read(n) returns what has arrived, up to n: the chunking depends on timing,
            # the bytes do not.
            chunks: list[bytes] = []
            try:
                async for chunk in response.content.iter_chunked(1000):
                    chunks.append(chunk)
            finally:
                seen.add("content", b"".join(chunks))


class AiohttpEarlyRelease(AsyncMode):
    name = "aiohttp-stream-early-release"
    reads_all = False
    observes_reads = False

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with _aiohttp_response(request, seen) as response:
            async for chunk in response.content.iter_chunked(100):
                seen.add("chunk", bool(chunk))  # its size depends on timing
                break


class AiohttpTextUnmanaged(AsyncMode):
    """No ``async with``, never released: the call ends when ``text()`` has read the body."""

    name = "aiohttp-text-unmanaged"

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with aiohttp.ClientSession() as session:
            response = await session.request(request.method, request.url, json=request.json)
            _aiohttp_head(seen, response)
            seen.stage = "iterate"
            seen.add("text", await response.text(errors="replace"))


class AiohttpRaiseForStatus(AsyncMode):
    """``raise_for_status=True``: an HTTP error status is the call's own exception."""

    name = "aiohttp-raise_for_status"

    async def run_async(self, request: Request, seen: Seen) -> None:
        async with _aiohttp_response(request, seen, raise_for_status=True) as response:
            seen.add("content", await response.read())


MODES: tuple[Mode, ...] = (
    HttpxRead(),
    HttpxStreamBytes(),
    HttpxStreamRaw(),
    HttpxStreamLines(),
    HttpxStreamRead(),
    HttpxEarlyClose(),
    HttpxMockTransportStream(),
    AsyncHttpxRead(),
    AsyncHttpxStreamBytes(),
    AsyncHttpxEarlyClose(),
    RequestsRead(),
    RequestsStreamContent(),
    RequestsIterLines(),
    RequestsEarlyClose(),
    RequestsIterContentMisuse(),
    AiohttpRead(),
    AiohttpStreamContent(),
    AiohttpEarlyRelease(),
    AiohttpTextUnmanaged(),
    AiohttpRaiseForStatus(),
)
