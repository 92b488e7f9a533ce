"""ASGI: ``WeComASGIMiddleware`` (FastAPI / Starlette ``app.add_middleware``, any ASGI app).

A callback's body messages are received here (up to ``max_body_bytes``) and replayed to the
app, the very same message objects in the same order, before ``receive`` is handed back to
the server's; an error from ``receive`` is replayed at the same point. The span ends when the
app returns (or raises).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional

from opentelemetry.instrumentation.wecom._callbacks.base import CallbackMiddleware
from opentelemetry.instrumentation.wecom._callbacks.record import CallbackRecorder, CallbackSpan
from opentelemetry.instrumentation.wecom._containment import contained, report_internal_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class WeComASGIMiddleware(CallbackMiddleware[ASGIApp]):
    __doc__ = CallbackMiddleware.__doc__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        callback, receive = await _begin(self._recorder, scope, receive)
        if callback is None:
            await self.app(scope, receive, send)
            return
        answer = _Answer()

        async def observed_send(message: Message) -> None:
            answer.note(message)
            await send(message)

        token = callback.activate()
        try:
            await self.app(scope, receive, observed_send)
        except BaseException as exception:
            callback.finish(answer.status, exception)
            raise
        finally:
            callback.deactivate(token)
        callback.finish(answer.status)


class _Answer:
    """The status of the app's ``http.response.start``."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status: Optional[int] = None

    @contained
    def note(self, message: Message) -> None:
        if message.get("type") == "http.response.start":
            self.status = int(message["status"])


async def _begin(
    recorder: CallbackRecorder, scope: Scope, receive: Receive
) -> tuple[Optional[CallbackSpan], Receive]:
    """The span of a WeCom callback and the ``receive`` the app must use (a replay, if read)."""
    body: Optional[bytes] = None
    try:
        start_ns = recorder.clock_ns()
        method = scope.get("method", "")
        path = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        signed = recorder.recognise(method, path, query)
        if signed is None:
            return None, receive
        if recorder.wants_body(method):
            body, receive = await _take_body(scope, receive, recorder.max_body_bytes)
    except Exception:
        report_internal_error("asgi._begin")
        return None, receive
    return recorder.begin(method, path, signed, body, start_ns), receive


async def _take_body(scope: Scope, receive: Receive, limit: int) -> tuple[Optional[bytes], Receive]:
    """Receive the body (up to ``limit`` bytes) and a ``receive`` that replays it first."""
    length = _content_length(scope)
    if length is not None and length > limit:
        return None, receive
    messages: list[Message] = []
    size = 0
    complete = False
    error: Optional[Exception] = None
    while not complete and size <= limit:
        try:
            message = await receive()
        except Exception as exception:  # the app would have met it: it meets it on its receive
            error = exception
            break
        messages.append(message)
        progress = _progress(message)
        if progress is None:
            break  # http.disconnect (the app will see it too), or a message not understood
        size += progress[0]
        complete = progress[1]
    if not messages and error is None:
        return None, receive
    replay = _Replay(messages, receive, error)
    if not complete or size > limit:
        return None, replay
    return _joined(messages), replay


@contained
def _joined(messages: list[Message]) -> bytes:
    """The body of the received messages (a bug here costs the facts, never the replay)."""
    return b"".join(bytes(m.get("body", b"")) for m in messages)


@contained
def _progress(message: Message) -> Optional[tuple[int, bool]]:
    """The body bytes an ``http.request`` message carries and whether it is the last one."""
    if message.get("type") != "http.request":
        return None
    return len(message.get("body", b"")), not message.get("more_body", False)


def _content_length(scope: Scope) -> Optional[int]:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _Replay:
    """``receive`` for the app: the messages already received, then the server's ``receive``."""

    __slots__ = ("_error", "_pending", "_receive")

    def __init__(
        self, messages: list[Message], receive: Receive, error: Optional[Exception]
    ) -> None:
        self._pending = deque(messages)
        self._receive = receive
        self._error = error

    async def __call__(self) -> Message:
        if self._pending:
            return self._pending.popleft()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return await self._receive()
