"""``@wecom_api``: outcomes from returns and raises, and one metric point per call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from opentelemetry.trace import StatusCode

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.wecom import _telemetry as telemetry_module
from opentelemetry.instrumentation.wecom import wecom_api
from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .conftest import Telemetry, attrs


class SdkError(Exception):
    """Shaped like wechatpy's WeChatClientException / wecomkit's WeComAPIError."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"Error code: {errcode}, message: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@pytest.fixture
def standalone(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """The decorator on its own: no instrumentor, providers from the globals."""
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", telemetry.tracer_provider)
    monkeypatch.setattr(metrics._internal, "_METER_PROVIDER", telemetry.meter_provider)
    monkeypatch.setattr(telemetry_module, "_default", None)
    return telemetry


def test_dict_result(standalone: Telemetry) -> None:
    @wecom_api("message/send")
    def send() -> dict[str, Any]:
        return {"errcode": 0, "errmsg": "ok", "invaliduser": "ghost", "msgid": "m1"}

    assert send()["msgid"] == "m1"
    (span,) = standalone.wecom_spans()
    a = attrs(span)
    assert span.name == "wecom message/send"
    assert a["wecom.errcode"] == 0
    assert a["wecom.message.partial_failure"] is True
    assert standalone.duration_count() == 1


def test_object_with_errcode_and_raised_sdk_error(standalone: Telemetry) -> None:
    class Result:
        errcode = 45009
        errmsg = "api freq out of limit"

    @wecom_api("user/get")
    def limited() -> Result:
        return Result()

    @wecom_api("/user/get/")
    def failing() -> None:
        raise SdkError(60011, "no privilege to access/modify contact/party/agent")

    limited()
    with pytest.raises(SdkError) as raised:
        failing()
    assert raised.value.errcode == 60011
    first, second = standalone.wecom_spans()
    assert attrs(first)["wecom.error.category"] == "rate_limit"
    assert attrs(first)["wecom.error.retryable"] is True
    assert second.name == "wecom user/get"
    assert attrs(second)["error.type"] == "60011"
    assert attrs(second)["wecom.status"] == "business_error"
    assert [e.name for e in second.events] == ["exception"]
    assert second.status.status_code is StatusCode.ERROR


def test_plain_exception_is_a_system_error(standalone: Telemetry) -> None:
    @wecom_api("gettoken")
    def broken() -> None:
        raise TimeoutError("upstream slow")

    with pytest.raises(TimeoutError):
        broken()
    (span,) = standalone.wecom_spans()
    assert attrs(span)["error.type"] == "TimeoutError"
    assert attrs(span)["wecom.status"] == "system_error"
    assert standalone.duration_count() == 1


def test_async_function_and_async_generator(standalone: Telemetry) -> None:
    @wecom_api("appchat/send")
    async def send() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"errcode": 86003, "errmsg": "chatid not exist"}

    @wecom_api("user/list")
    async def pages() -> AsyncIterator[dict[str, Any]]:
        for page in range(3):
            await asyncio.sleep(0)
            yield {"errcode": 0, "errmsg": "ok", "page": page}

    async def main() -> list[int]:
        await send()
        return [page["page"] async for page in pages()]

    assert asyncio.run(main()) == [0, 1, 2]
    send_span, pages_span = standalone.wecom_spans()
    assert attrs(send_span)["wecom.errcode"] == 86003
    assert attrs(pages_span)["wecom.errcode"] == 0
    assert standalone.duration_count() == 2


def test_decorator_is_the_parent_of_auto_instrumented_calls(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    """Inner HTTP calls record the points; the decorator adds none of its own."""

    @wecom_api("message/send")
    def notify(client: httpx.Client) -> dict[str, Any]:
        token = client.get(
            f"{mock.api_base_url}gettoken",
            params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
        ).json()["access_token"]
        response = client.post(
            f"{mock.api_base_url}message/send",
            params={"access_token": token},
            json={
                "touser": "zhangsan",
                "msgtype": "text",
                "agentid": mock.agent_id,
                "text": {"content": "x"},
            },
        )
        result: dict[str, Any] = response.json()
        return result

    with httpx.Client() as client:
        assert notify(client)["errcode"] == 0
    spans = instrumented.wecom_spans()
    outer = next(s for s in spans if s.parent is None)
    inner = [s for s in spans if s is not outer]
    assert len(inner) == 2
    assert all(s.parent is not None and s.parent.span_id == outer.context.span_id for s in inner)
    assert instrumented.duration_count() == 2


def test_decorated_httpx_response_result(standalone: Telemetry) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errcode": 40014, "errmsg": "invalid access_token"})

    @wecom_api("department/list")
    def call() -> httpx.Response:
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            return client.get("https://private.example/cgi-bin/department/list")

    assert call().status_code == 200
    (span,) = standalone.wecom_spans()
    assert attrs(span)["wecom.errcode"] == 40014
    assert attrs(span)["http.response.status_code"] == 200


def test_invalid_api_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="API path"):
        wecom_api("")


def test_decorated_aiohttp_response_result(standalone: Telemetry, mock: MockWeComServer) -> None:
    """A read aiohttp response gives its errcode; an unread one is never read for it."""

    @wecom_api("user/get")
    async def read_one(session: aiohttp.ClientSession) -> aiohttp.ClientResponse:
        response = await session.get(f"{mock.api_base_url}user/get?access_token=bad")
        await response.read()
        return response

    @wecom_api("user/get")
    async def unread_one(session: aiohttp.ClientSession) -> aiohttp.ClientResponse:
        return await session.get(f"{mock.api_base_url}user/get?access_token=bad")

    async def main() -> tuple[int, bytes]:
        async with aiohttp.ClientSession() as session:
            read = await read_one(session)
            unread = await unread_one(session)
            body = await unread.read()  # still there for the app
            return read.status, body

    status, body = asyncio.run(main())
    assert status == 200
    assert b"40014" in body
    read_span, unread_span = standalone.wecom_spans()
    assert attrs(read_span)["wecom.errcode"] == 40014
    assert "wecom.errcode" not in attrs(unread_span)
