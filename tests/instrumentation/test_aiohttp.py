"""aiohttp's ClientSession against the mock WeCom: spans, attributes, status and metric points,
for bodies read whole, streamed, never read and dropped."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import threading
from collections.abc import Awaitable, Iterator
from typing import Any, Callable, TypeVar

import aiohttp
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .conftest import Telemetry, attrs

T = TypeVar("T")


def run(session_use: Callable[[aiohttp.ClientSession], Awaitable[T]], **options: Any) -> T:
    """``session_use(session)`` on a fresh event loop and session."""

    async def main() -> T:
        async with aiohttp.ClientSession(**options) as session:
            return await session_use(session)

    return asyncio.run(main())


async def token_of(session: aiohttp.ClientSession, mock: MockWeComServer) -> str:
    params = {"corpid": mock.corp_id, "corpsecret": mock.corp_secret}
    async with session.get(f"{mock.api_base_url}gettoken", params=params) as response:
        token = (await response.json())["access_token"]
    assert isinstance(token, str)
    return token


def test_successful_call_is_a_client_span_with_errcode_0(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    async def use(session: aiohttp.ClientSession) -> Any:
        token = await token_of(session, mock)
        params = {"access_token": token, "userid": "zhangsan"}
        async with session.get(f"{mock.api_base_url}user/get", params=params) as response:
            return await response.json()

    assert run(use)["errcode"] == 0
    gettoken, user_get = instrumented.wecom_spans()
    assert gettoken.name == "wecom gettoken"
    assert user_get.name == "wecom user/get"
    assert user_get.kind is SpanKind.CLIENT
    assert user_get.status.status_code is StatusCode.UNSET
    a = attrs(user_get)
    assert a["wecom.api"] == "user/get"
    assert a["wecom.errcode"] == 0
    assert a["wecom.status"] == "ok"
    assert a["http.request.method"] == "GET"
    assert a["http.response.status_code"] == 200
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == mock.port
    assert a["url.full"] == f"{mock.api_base_url}user/get?access_token=REDACTED&userid=zhangsan"
    assert attrs(gettoken)["wecom.token.expires_in"] == 7200
    assert instrumented.duration_count() == 2


def test_business_error_with_a_json_body_read_through_text(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    async def use(session: aiohttp.ClientSession) -> str:
        token = await token_of(session, mock)
        mock.expire_tokens()
        message = {"touser": "zhangsan", "msgtype": "markdown", "agentid": mock.agent_id}
        response = await session.post(
            f"{mock.api_base_url}message/send", params={"access_token": token}, json=message
        )
        return await response.text()  # no `async with`: the read ends the call

    assert '"errcode":42001' in run(use).replace(" ", "")
    span = instrumented.wecom_spans()[-1]
    a = attrs(span)
    assert span.status.status_code is StatusCode.ERROR
    assert a["wecom.errcode"] == 42001
    assert a["wecom.error.category"] == "auth"
    assert a["error.type"] == "42001"
    assert a["wecom.message.msgtype"] == "markdown"  # the json= body, as aiohttp serialises it
    assert a["wecom.agent_id"] == mock.agent_id
    assert instrumented.duration_count() == 2


def test_partial_failure_from_a_bytes_body(instrumented: Telemetry, mock: MockWeComServer) -> None:
    async def use(session: aiohttp.ClientSession) -> Any:
        token = await token_of(session, mock)
        message = {
            "touser": "zhangsan|nobody1",
            "msgtype": "text",
            "agentid": mock.agent_id,
            "text": {"content": "hi"},
        }
        body = json.dumps(message).encode()
        async with session.post(
            f"{mock.api_base_url}message/send", params={"access_token": token}, data=body
        ) as response:
            return await response.json()

    assert run(use)["invaliduser"] == "nobody1"
    a = attrs(instrumented.wecom_spans()[-1])
    assert a["wecom.message.partial_failure"] is True
    assert a["wecom.message.invalid.invaliduser"] == 1
    assert a["wecom.message.msgtype"] == "text"


def test_a_json_request_body_is_serialised_once_for_the_instrumentation(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    serialised: list[str] = []

    def dumps(value: Any) -> str:
        text = json.dumps(value)
        serialised.append(text)
        return text

    async def use(session: aiohttp.ClientSession) -> Any:
        token = await token_of(session, mock)
        message = {
            "touser": "zhangsan",
            "msgtype": "text",
            "agentid": mock.agent_id,
            "text": {"content": "hi"},
        }
        async with session.post(
            f"{mock.api_base_url}message/send", params={"access_token": token}, json=message
        ) as response:
            return await response.json()

    assert run(use, json_serialize=dumps)["errcode"] == 0
    assert len(serialised) == 2  # aiohttp's own, and one for the message hooks
    a = attrs(instrumented.wecom_spans()[-1])
    assert a["wecom.message.msgtype"] == "text"
    assert a["wecom.message.recipients.user"] == 1


def test_base_url_and_params_make_the_recorded_url(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    async def use(session: aiohttp.ClientSession) -> int:
        params = {"corpid": mock.corp_id, "corpsecret": mock.corp_secret}
        async with session.get("/cgi-bin/gettoken?debug=1", params=params) as response:
            return response.status

    assert run(use, base_url=mock.base_url) == 200
    (span,) = instrumented.wecom_spans()
    assert attrs(span)["url.full"] == (
        f"{mock.api_base_url}gettoken?debug=1&corpid={mock.corp_id}&corpsecret=REDACTED"
    )
    assert mock.corp_secret not in instrumented.dump()


def test_streamed_media_download_ends_when_the_app_leaves_the_block(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB of binary
    media_id = mock.add_media(data, "photo.jpg", "image/jpeg")

    async def use(session: aiohttp.ClientSession) -> bytes:
        token = await token_of(session, mock)
        received = bytearray()
        params = {"access_token": token, "media_id": media_id}
        async with session.get(f"{mock.api_base_url}media/get", params=params) as response:
            async for chunk in response.content.iter_chunked(65536):
                received.extend(chunk)
            assert len(instrumented.wecom_spans()) == 1  # only gettoken: still open
        return bytes(received)

    assert run(use) == data
    span = instrumented.wecom_spans()[-1]
    a = attrs(span)
    assert span.name == "wecom media/get"
    assert "wecom.errcode" not in a
    assert a["wecom.status"] == "ok"
    assert a["wecom.media.content_type"] == "image/jpeg"
    assert a["wecom.media.size"] == len(data)
    assert instrumented.duration_count() == 2


def test_error_body_of_a_download_gives_its_errcode_when_read(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    async def use(session: aiohttp.ClientSession) -> Any:
        token = await token_of(session, mock)
        params = {"access_token": token, "media_id": "nope"}
        async with session.get(f"{mock.api_base_url}media/get", params=params) as response:
            return await response.json()

    assert run(use)["errcode"] == 40007
    assert attrs(instrumented.wecom_spans()[-1])["wecom.errcode"] == 40007


def test_a_response_never_read_ends_on_release_with_its_status(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    mock.inject(api="department/list", http_status=502)

    async def use(session: aiohttp.ClientSession) -> int:
        async with session.get(
            f"{mock.api_base_url}department/list", params={"access_token": "t"}
        ) as response:
            return response.status

    assert run(use) == 502
    (span,) = instrumented.wecom_spans()
    a = attrs(span)
    assert a["error.type"] == "502"
    assert a["wecom.status"] == "system_error"
    assert instrumented.duration_count() == 1


def test_a_dropped_response_still_ends_its_call(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    async def use(session: aiohttp.ClientSession) -> int:
        response = await session.get(f"{mock.api_base_url}gettoken")
        return response.status  # neither read nor released: dropped when `use` returns

    assert run(use) == 200
    # aiohttp keeps an unread response reachable until its connection is done with it; once
    # the session is closed nothing refers to it, and the collector ends the call.
    gc.collect()
    assert [s.name for s in instrumented.wecom_spans()] == ["wecom gettoken"]
    assert instrumented.duration_count() == 1


def test_a_method_taken_from_a_response_keeps_it_alive_as_without_instrumentation(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    """``await (await session.get(url)).read()``: nothing but the bound ``read`` refers to the
    response while it runs (the instrumentation once held it weakly and failed there)."""

    async def use(session: aiohttp.ClientSession) -> bytes:
        read = (await session.get(f"{mock.api_base_url}gettoken")).read
        gc.collect()
        return await read()

    assert json.loads(run(use))["errcode"] == 41004  # corpsecret missing
    (span,) = instrumented.wecom_spans()
    assert attrs(span)["wecom.errcode"] == 41004


def test_raise_for_status_exception_is_recorded_and_reraised(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    mock.inject(api="department/list", http_status=502)

    async def use(session: aiohttp.ClientSession) -> None:
        await session.get(f"{mock.api_base_url}department/list", params={"access_token": "t"})

    with pytest.raises(aiohttp.ClientResponseError) as raised:
        run(use, raise_for_status=True)
    assert raised.value.status == 502
    (span,) = instrumented.wecom_spans()
    assert attrs(span)["error.type"] == "ClientResponseError"
    assert [e.name for e in span.events] == ["exception"]
    assert instrumented.duration_count() == 1


def test_connection_refused_is_recorded_and_reraised(telemetry: Telemetry) -> None:

    async def use(session: aiohttp.ClientSession) -> None:
        await session.get("http://127.0.0.1:9/cgi-bin/gettoken?corpid=ww&corpsecret=CANARYSECRET")

    with (
        telemetry.instrumenting(hosts=["127.0.0.1:9"]),
        pytest.raises(aiohttp.ClientConnectorError),
    ):
        run(use)
    (span,) = telemetry.wecom_spans()
    a = attrs(span)
    assert a["error.type"] == "ClientConnectorError"
    assert a["wecom.status"] == "system_error"
    assert span.status.status_code is StatusCode.ERROR
    assert [p.attributes["error.type"] for p in telemetry.points("wecom.client.duration")] == [
        "ClientConnectorError"
    ]
    assert "CANARYSECRET" not in telemetry.dump()


def test_timeout_on_a_hanging_api(instrumented: Telemetry, mock: MockWeComServer) -> None:
    mock.inject(api="user/get", hang=5)

    async def use(session: aiohttp.ClientSession) -> None:
        await session.get(
            f"{mock.api_base_url}user/get",
            params={"access_token": "t", "userid": "x"},
            timeout=aiohttp.ClientTimeout(total=0.3),
        )

    with pytest.raises(asyncio.TimeoutError):
        run(use)
    (span,) = instrumented.wecom_spans()
    assert attrs(span)["wecom.status"] == "system_error"
    assert instrumented.duration_count() == 1


def test_100_concurrent_calls(instrumented: Telemetry, mock: MockWeComServer) -> None:
    async def use(session: aiohttp.ClientSession) -> list[Any]:
        token = await token_of(session, mock)

        async def one() -> Any:
            params = {"access_token": token, "userid": "lisi"}
            async with session.get(f"{mock.api_base_url}user/get", params=params) as response:
                return await response.json()

        return await asyncio.gather(*(one() for _ in range(100)))

    assert all(r["errcode"] == 0 for r in run(use))
    spans = [s for s in instrumented.wecom_spans() if s.name == "wecom user/get"]
    assert len(spans) == 100
    assert all(s.parent is None for s in spans)  # concurrent calls never nest under each other
    assert instrumented.duration_count() == 101


def test_other_hosts_are_untouched(instrumented: Telemetry) -> None:
    async def use(session: aiohttp.ClientSession) -> int:
        async with session.get(f"{other.api_base_url}gettoken") as response:
            await response.read()
            return response.status

    with MockWeComServer() as other:
        assert run(use) == 200
    assert instrumented.spans() == []
    assert instrumented.duration_count() == 0


@pytest.fixture
def short_body_server() -> Iterator[str]:
    """A server that promises 100 bytes of JSON and hangs up after 12."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"errcode":0'
            )

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        thread.join(timeout=10)
        listener.close()


def test_a_body_cut_short_is_the_exception_the_app_gets(
    telemetry: Telemetry, short_body_server: str
) -> None:

    async def use(session: aiohttp.ClientSession) -> Any:
        async with session.get(f"http://{short_body_server}/cgi-bin/user/get") as response:
            return await response.json()

    with (
        telemetry.instrumenting(hosts=[short_body_server]),
        pytest.raises(aiohttp.ClientPayloadError),
    ):
        run(use)
    (span,) = telemetry.wecom_spans()
    assert attrs(span)["error.type"] == "ClientPayloadError"
    assert [e.name for e in span.events] == ["exception"]
    assert telemetry.duration_count() == 1


@pytest.mark.parametrize("stream", ["iter_chunked", "content.read"])
def test_a_streamed_body_cut_short_ends_the_call_with_the_exception_the_app_gets(
    telemetry: Telemetry, short_body_server: str, stream: str
) -> None:
    """Streaming from ``response.content`` bypasses ``read()``: the release that follows the
    failure (``async with``) ends the call with the stream's exception, not with the status."""

    async def use(session: aiohttp.ClientSession) -> bytes:
        received = bytearray()
        async with session.get(f"http://{short_body_server}/cgi-bin/media/get") as response:
            if stream == "iter_chunked":
                async for chunk in response.content.iter_chunked(4):
                    received.extend(chunk)
            else:
                received.extend(await response.content.read())
        return bytes(received)

    with (
        telemetry.instrumenting(hosts=[short_body_server]),
        pytest.raises(aiohttp.ClientPayloadError),
    ):
        run(use)
    (span,) = telemetry.wecom_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)["error.type"] == "ClientPayloadError"
    assert [e.name for e in span.events] == ["exception"]
    assert telemetry.duration_count() == 1


def test_a_stream_that_fails_after_the_app_stopped_reading_ends_with_the_status(
    telemetry: Telemetry, short_body_server: str
) -> None:
    """Leaving a stream early is no failure, even when the rest of the body never comes."""

    async def use(session: aiohttp.ClientSession) -> bytes:
        async with session.get(f"http://{short_body_server}/cgi-bin/media/get") as response:
            first = await response.content.readany()
            while response.content.exception() is None:  # the server hangs up mid-body
                await asyncio.sleep(0.01)
        return first

    with telemetry.instrumenting(hosts=[short_body_server]):
        assert run(use) == b'{"errcode":0'
    (span,) = telemetry.wecom_spans()
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    assert attrs(span)["http.response.status_code"] == 200


@pytest.mark.parametrize(
    ("installed", "ignores"),
    [("0.57b0", True), ("0.59b0", True), ("0.60b0", False), ("0.66b1", False), ("1.2.0", False)],
)
def test_old_stock_instrumentations_are_silenced_with_the_general_key(
    monkeypatch: pytest.MonkeyPatch, installed: str, ignores: bool
) -> None:
    """aiohttp-client before 0.60b0 honours only suppress_instrumentation (make compat runs it)."""
    from importlib import metadata

    from opentelemetry.instrumentation.wecom._transports import _aiohttp

    monkeypatch.setattr(_aiohttp.metadata, "version", lambda name: installed)
    assert _aiohttp._stock_ignores_http_suppression() is ignores

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_aiohttp.metadata, "version", missing)
    assert _aiohttp._stock_ignores_http_suppression() is False
