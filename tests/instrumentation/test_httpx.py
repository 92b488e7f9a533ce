"""httpx sync and async against the mock WeCom: spans, attributes, status and metric points."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .conftest import Telemetry, attrs


def _token(mock: MockWeComServer) -> str:
    response = httpx.get(
        f"{mock.api_base_url}gettoken",
        params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
    )
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def test_successful_call_is_a_client_span_with_errcode_0(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    token = _token(mock)
    response = httpx.get(
        f"{mock.api_base_url}user/get", params={"access_token": token, "userid": "zhangsan"}
    )
    assert response.json()["errcode"] == 0

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
    assert "error.type" not in a
    assert attrs(gettoken)["wecom.token.expires_in"] == 7200
    assert instrumented.duration_count() == 2


def test_business_error_is_an_error_span_with_category(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    token = _token(mock)
    mock.expire_tokens()
    response = httpx.post(
        f"{mock.api_base_url}message/send",
        params={"access_token": token},
        json={"touser": "zhangsan"},
    )
    assert response.status_code == 200
    assert response.json()["errcode"] == 42001

    span = instrumented.wecom_spans()[-1]
    a = attrs(span)
    assert a["wecom.errcode"] == 42001
    assert a["error.type"] == "42001"
    assert a["wecom.status"] == "business_error"
    assert a["wecom.error.category"] == "auth"
    assert a["wecom.error.retryable"] is True
    assert a["wecom.errmsg"].startswith("access_token expired")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "WeCom errcode 42001: access_token expired"

    points = {
        tuple(sorted(p.attributes.items())): p.count
        for p in instrumented.points("wecom.client.duration")
    }
    assert (
        points[
            (
                ("error.type", "42001"),
                ("wecom.api", "message/send"),
                ("wecom.errcode", 42001),
                ("wecom.status", "business_error"),
            )
        ]
        == 1
    )


def test_partial_failure_is_visible(instrumented: Telemetry, mock: MockWeComServer) -> None:
    token = _token(mock)
    response = httpx.post(
        f"{mock.api_base_url}message/send",
        params={"access_token": token},
        json={
            "touser": "zhangsan|nobody1|nobody2|qianba",
            "toparty": "1|999",
            "totag": "77",
            "msgtype": "text",
            "agentid": mock.agent_id,
            "text": {"content": "hi"},
        },
    )
    body = response.json()
    assert body["errcode"] == 0
    assert body["invaliduser"]

    span = instrumented.wecom_spans()[-1]
    a = attrs(span)
    assert span.status.status_code is StatusCode.UNSET
    assert a["wecom.message.partial_failure"] is True
    assert a["wecom.message.msgtype"] == "text"
    assert a["wecom.agent_id"] == mock.agent_id
    assert a["wecom.message.invalid.invaliduser"] == 2
    assert a["wecom.message.invalid.invalidparty"] == 1
    assert a["wecom.message.invalid.invalidtag"] == 1
    assert a["wecom.message.invalid.unlicenseduser"] == 1
    counted = {
        p.attributes["wecom.recipient.kind"]: p.value
        for p in instrumented.points("wecom.message.invalid_recipients")
    }
    assert counted == {"invaliduser": 2, "invalidparty": 1, "invalidtag": 1, "unlicenseduser": 1}


def test_all_recipients_invalid_is_81013(instrumented: Telemetry, mock: MockWeComServer) -> None:
    token = _token(mock)
    response = httpx.post(
        f"{mock.api_base_url}message/send",
        params={"access_token": token},
        json={
            "touser": "ghost",
            "msgtype": "text",
            "agentid": mock.agent_id,
            "text": {"content": "x"},
        },
    )
    assert response.json()["errcode"] == 81013
    a = attrs(instrumented.wecom_spans()[-1])
    assert a["wecom.errcode"] == 81013
    assert a["wecom.error.category"] == "not_found"
    assert "wecom.message.partial_failure" not in a


def test_non_json_502_page(instrumented: Telemetry, mock: MockWeComServer) -> None:
    mock.inject(api="department/list", http_status=502)
    response = httpx.get(f"{mock.api_base_url}department/list", params={"access_token": "t"})
    assert response.status_code == 502
    span = instrumented.wecom_spans()[-1]
    a = attrs(span)
    assert "wecom.errcode" not in a
    assert a["error.type"] == "502"
    assert a["wecom.status"] == "system_error"
    assert span.status.status_code is StatusCode.ERROR
    assert instrumented.duration_count() == 1


def test_connection_refused_is_recorded_and_reraised(telemetry: Telemetry) -> None:

    with telemetry.instrumenting(hosts=["127.0.0.1:9"]), pytest.raises(httpx.ConnectError):
        httpx.get("http://127.0.0.1:9/cgi-bin/gettoken?corpid=ww&corpsecret=CANARYSECRET")
    (span,) = telemetry.wecom_spans()
    a = attrs(span)
    assert a["error.type"] == "ConnectError"
    assert a["wecom.status"] == "system_error"
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]
    points = telemetry.points("wecom.client.duration")
    assert [p.attributes["error.type"] for p in points] == ["ConnectError"]
    assert "CANARYSECRET" not in telemetry.dump()


def test_connection_reset(instrumented: Telemetry, mock: MockWeComServer) -> None:
    mock.inject(api="user/get", reset=True)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{mock.api_base_url}user/get", params={"access_token": "t", "userid": "x"})
    span = instrumented.wecom_spans()[-1]
    assert attrs(span)["wecom.status"] == "system_error"
    assert instrumented.duration_count() == 1


def test_exception_event_lies_within_its_span(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    mock.inject(api="user/get", reset=True)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{mock.api_base_url}user/get", params={"access_token": "t", "userid": "x"})
    span = instrumented.wecom_spans()[-1]
    (event,) = [e for e in span.events if e.name == "exception"]
    assert span.start_time is not None
    assert span.end_time is not None
    assert span.start_time <= event.timestamp <= span.end_time


def test_timeout_on_a_hanging_api(instrumented: Telemetry, mock: MockWeComServer) -> None:
    mock.inject(api="user/get", hang=5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            f"{mock.api_base_url}user/get", params={"access_token": "t", "userid": "x"}, timeout=0.3
        )
    assert attrs(instrumented.wecom_spans()[-1])["error.type"] == "ReadTimeout"


def test_streamed_media_download(instrumented: Telemetry, mock: MockWeComServer) -> None:
    token = _token(mock)
    data = bytes(range(256)) * 4096  # 1 MiB of binary
    media_id = mock.add_media(data, "photo.jpg", "image/jpeg")
    received = bytearray()
    with (
        httpx.Client() as client,
        client.stream(
            "GET",
            f"{mock.api_base_url}media/get",
            params={"access_token": token, "media_id": media_id},
        ) as response,
    ):
        assert len(instrumented.wecom_spans()) == 1  # only gettoken: the download is still open
        for chunk in response.iter_bytes():
            received.extend(chunk)
    assert bytes(received) == data
    span = instrumented.wecom_spans()[-1]
    a = attrs(span)
    assert span.name == "wecom media/get"
    assert "wecom.errcode" not in a
    assert a["wecom.status"] == "ok"
    assert a["wecom.media.content_type"] == "image/jpeg"
    assert a["wecom.media.size"] == len(data)


def test_streamed_error_body_gives_its_errcode(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    token = _token(mock)
    with (
        httpx.Client() as client,
        client.stream(
            "GET",
            f"{mock.api_base_url}media/get",
            params={"access_token": token, "media_id": "nope"},
        ) as response,
    ):
        response.read()
    assert attrs(instrumented.wecom_spans()[-1])["wecom.errcode"] == 40007


def test_async_client_with_100_concurrent_calls(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    token = _token(mock)

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as client:
            return await asyncio.gather(
                *(
                    client.get(
                        f"{mock.api_base_url}user/get",
                        params={"access_token": token, "userid": "lisi"},
                    )
                    for _ in range(100)
                )
            )

    responses = asyncio.run(main())
    assert all(r.json()["errcode"] == 0 for r in responses)
    spans = [s for s in instrumented.wecom_spans() if s.name == "wecom user/get"]
    assert len(spans) == 100
    assert len({s.context.span_id for s in spans}) == 100
    assert all(s.parent is None for s in spans)  # concurrent calls never nest under each other
    assert instrumented.duration_count() == 101


def test_async_streamed_response(instrumented: Telemetry, mock: MockWeComServer) -> None:
    token = _token(mock)
    media_id = mock.add_media(b"\x89PNG" + b"\x00" * 5000, "a.png", "image/png")

    async def main() -> bytes:
        async with (
            httpx.AsyncClient() as client,
            client.stream(
                "GET",
                f"{mock.api_base_url}media/get",
                params={"access_token": token, "media_id": media_id},
            ) as response,
        ):
            return await response.aread()

    assert asyncio.run(main()).startswith(b"\x89PNG")
    assert attrs(instrumented.wecom_spans()[-1])["wecom.media.content_type"] == "image/png"


def test_other_hosts_are_untouched(instrumented: Telemetry, mock: MockWeComServer) -> None:
    other = MockWeComServer()
    with other:
        httpx.get(f"{other.api_base_url}gettoken")
    assert instrumented.spans() == []
    assert instrumented.duration_count() == 0


def test_mock_transport_clients_are_instrumented(telemetry: Telemetry) -> None:
    """Any transport: the wrapper sits on Client.send, above the transport."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"errcode": 60020, "errmsg": "not allow to access from your ip"}
        )

    with (
        telemetry.instrumenting(),
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
    ):
        client.get("https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=abc")
    (span,) = telemetry.wecom_spans()
    assert attrs(span)["wecom.error.category"] == "ip_whitelist"
