"""An error inside the middleware never reaches the app, and the app's input stays its own."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest

from opentelemetry.instrumentation.wecom._callbacks import record, wsgi
from opentelemetry.instrumentation.wecom.callbacks import WeComASGIMiddleware

from . import wire
from .apps import KEYS
from .conftest import CallbackTelemetry, Stack


def broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("bug inside the middleware")


@pytest.mark.parametrize(
    ("where", "recorded"),
    [
        ("examine_push", ["url_verification"]),
        ("examine_verification", ["click"]),
        ("signed_query", []),  # no request is recognised: none is recorded
    ],
)
def test_an_internal_error_costs_the_span_never_the_response(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, where: str, recorded: list[str]
) -> None:
    requests = [wire.verification(), wire.push(wire.event_xml("click"))]
    bare = [r.send(stack.bare_url) for r in requests]
    monkeypatch.setattr(record, where, broken)
    assert [r.send(stack.url) for r in requests] == bare
    assert bare[1].status == 200
    spans = stack.telemetry.wait_for_spans(len(recorded))
    assert [(s.attributes or {})["wecom.callback.event"] for s in spans] == recorded


class FlakyStream(io.RawIOBase):
    """A request body whose connection drops after ``good`` bytes."""

    def __init__(self, data: bytes, good: int) -> None:
        self._data, self._good, self._position = data, good, 0
        self.error = ConnectionResetError("client went away")

    def read(self, size: int | None = -1) -> bytes:
        if self._position >= self._good:
            raise self.error
        end = self._good if size is None or size < 0 else min(self._good, self._position + size)
        chunk = self._data[self._position : end]
        self._position = end
        return chunk


def test_wsgi_read_error_is_replayed_to_the_app_after_the_bytes_that_arrived() -> None:
    stream = FlakyStream(b"0123456789", good=4)
    environ = {"CONTENT_LENGTH": "10", "wsgi.input": stream}
    assert wsgi._take_body(environ, limit=1024) is None  # not a whole body: not examined
    replay = environ["wsgi.input"]
    assert replay.read(2) == b"01"
    assert replay.read() == b"23"
    with pytest.raises(ConnectionResetError) as raised:
        replay.read(6)
    assert raised.value is stream.error


def scripted_receive(messages: list[Any], error: Exception | None = None) -> Any:
    pending = list(messages)

    async def receive() -> Any:
        if pending:
            return pending.pop(0)
        if error is not None:
            raise error
        await asyncio.sleep(3600)  # like a server: waits for a disconnect that never comes
        return {"type": "http.disconnect"}

    return receive


def asgi_scope() -> dict[str, Any]:
    request = wire.push(wire.event_xml("click"))
    path, _, query = request.target.partition("?")
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"content-type", b"text/xml")],
    }


def run_asgi(messages: list[Any], error: Exception | None = None) -> tuple[list[Any], Any]:
    """The messages an app behind the middleware receives, and the error it met, if any."""
    seen: list[Any] = []
    met: list[BaseException] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            while True:
                message = await receive()
                seen.append(message)
                if not message.get("more_body"):
                    break
        except Exception as exception:
            met.append(exception)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        pass

    telemetry = CallbackTelemetry()
    middleware = WeComASGIMiddleware(app, **KEYS, **telemetry.providers)
    asyncio.run(middleware(asgi_scope(), scripted_receive(messages, error), send))
    return seen, (met[0] if met else None)


def test_asgi_app_receives_the_very_same_messages_in_order() -> None:
    body = wire.push(wire.event_xml("click")).body or b""
    messages = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": body[10:], "more_body": True},
        {"type": "http.request", "body": b"", "more_body": False},
    ]
    seen, error = run_asgi(list(messages))
    assert error is None
    assert len(seen) == 3
    assert all(got is sent for got, sent in zip(seen, messages))


def test_asgi_receive_error_is_replayed_after_the_messages_that_arrived() -> None:
    first = {"type": "http.request", "body": b"<xml>", "more_body": True}
    failure = OSError("connection reset")
    seen, error = run_asgi([first], failure)
    assert seen == [first]
    assert seen[0] is first
    assert error is failure


def test_asgi_disconnect_during_the_body_reaches_the_app() -> None:
    first = {"type": "http.request", "body": b"<xml>", "more_body": True}
    disconnect = {"type": "http.disconnect"}
    seen, error = run_asgi([first, disconnect])
    assert error is None
    assert seen == [first, disconnect]
    assert seen[1] is disconnect
