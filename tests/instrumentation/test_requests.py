"""requests (Session and module-level) against the mock WeCom."""

from __future__ import annotations

import weakref

import pytest
import requests
from opentelemetry.trace import StatusCode

from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .conftest import Telemetry, attrs


def _token(mock: MockWeComServer) -> str:
    response = requests.get(
        f"{mock.api_base_url}gettoken",
        params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
    )
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def test_session_calls(instrumented: Telemetry, mock: MockWeComServer) -> None:
    token = _token(mock)
    with requests.Session() as session:
        sent = session.post(
            f"{mock.api_base_url}message/send",
            params={"access_token": token},
            json={
                "touser": "zhangsan",
                "msgtype": "markdown",
                "agentid": mock.agent_id,
                "markdown": {"content": "**hi**"},
            },
        )
    assert sent.json()["errcode"] == 0
    gettoken, send = instrumented.wecom_spans()
    assert attrs(gettoken)["url.full"] == (
        f"{mock.api_base_url}gettoken?corpid={mock.corp_id}&corpsecret=REDACTED"
    )
    a = attrs(send)
    assert a["wecom.api"] == "message/send"
    assert a["wecom.errcode"] == 0
    assert a["wecom.message.msgtype"] == "markdown"
    assert a["http.request.method"] == "POST"
    assert instrumented.duration_count() == 2


def test_module_level_get_and_business_error(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    response = requests.get(f"{mock.api_base_url}user/get", params={"userid": "zhangsan"})
    assert response.json()["errcode"] == 41001
    span = instrumented.wecom_spans()[-1]
    assert attrs(span)["error.type"] == "41001"
    assert span.status.status_code is StatusCode.ERROR


def test_webhook_bad_key(instrumented: Telemetry, mock: MockWeComServer) -> None:
    response = requests.post(
        f"{mock.api_base_url}webhook/send",
        params={"key": "deadbeef-0000-4000-8000-00000c0ffee1"},
        json={"msgtype": "text", "text": {"content": "x"}},
    )
    assert response.json()["errcode"] == 93000
    a = attrs(instrumented.wecom_spans()[-1])
    assert a["wecom.api"] == "webhook/send"
    assert a["url.full"].endswith("webhook/send?key=REDACTED")
    assert "deadbeef-0000-4000-8000-00000c0ffee1" not in instrumented.dump()


def test_streamed_download_ends_on_close(instrumented: Telemetry, mock: MockWeComServer) -> None:
    token = _token(mock)
    data = b"\xff\xd8" + bytes(range(256)) * 1000
    media_id = mock.add_media(data)
    response = requests.get(
        f"{mock.api_base_url}media/get",
        params={"access_token": token, "media_id": media_id},
        stream=True,
    )
    chunks = list(response.iter_content(chunk_size=4096))
    assert len(instrumented.wecom_spans()) == 1  # the download's span is open until close()
    response.close()
    assert b"".join(chunks) == data
    span = instrumented.wecom_spans()[-1]
    assert span.name == "wecom media/get"
    assert attrs(span)["wecom.status"] == "ok"
    assert instrumented.duration_count() == 2


def test_streamed_json_error_read_through_json(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    token = _token(mock)
    with requests.get(
        f"{mock.api_base_url}media/get",
        params={"access_token": token, "media_id": "missing"},
        stream=True,
    ) as response:
        assert response.json()["errcode"] == 40007
    assert attrs(instrumented.wecom_spans()[-1])["wecom.errcode"] == 40007


def test_a_streamed_response_the_app_drops_is_freed_at_once_and_ends_its_call(
    instrumented: Telemetry, mock: MockWeComServer, no_cyclic_gc: None
) -> None:
    """``requests.get(url, stream=True).json()`` reads the body and never closes: the response
    (and its socket) goes when the app drops it, as without instrumentation, and the call ends
    then, with the errcode that was read."""
    response = requests.get(f"{mock.api_base_url}gettoken", params={"corpid": "x"}, stream=True)
    freed = weakref.ref(response)
    assert response.json()["errcode"] == 41004
    assert instrumented.wecom_spans() == []  # open until closed or dropped
    del response
    assert freed() is None
    (span,) = instrumented.wecom_spans()
    assert attrs(span)["wecom.errcode"] == 41004


def test_a_stream_closed_early_is_freed_at_once(
    instrumented: Telemetry, mock: MockWeComServer, no_cyclic_gc: None
) -> None:
    token = _token(mock)
    media_id = mock.add_media(bytes(range(256)) * 100)
    response = requests.get(
        f"{mock.api_base_url}media/get",
        params={"access_token": token, "media_id": media_id},
        stream=True,
    )
    freed = weakref.ref(response)
    for _chunk in response.iter_content(100):
        break
    response.close()
    assert attrs(instrumented.wecom_spans()[-1])["wecom.api"] == "media/get"
    del response
    assert freed() is None


def test_connection_error_message_with_token_is_scrubbed(telemetry: Telemetry) -> None:
    """requests' ConnectionError embeds the URL with the token; the span must not."""
    with (
        telemetry.instrumenting(hosts=["127.0.0.1:9"]),
        pytest.raises(requests.ConnectionError) as raised,
    ):
        requests.post("http://127.0.0.1:9/cgi-bin/message/send?access_token=CANARYTOKEN42", json={})
    assert "CANARYTOKEN42" in str(raised.value)  # the app still sees the original exception
    (span,) = telemetry.wecom_spans()
    assert attrs(span)["error.type"] == "ConnectionError"
    assert span.status.description is not None
    assert "REDACTED" in span.status.description
    assert "CANARYTOKEN42" not in telemetry.dump()


def test_threads_each_get_their_own_calls(instrumented: Telemetry, mock: MockWeComServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    token = _token(mock)

    def work(n: int) -> int:
        with requests.Session() as session:
            for _ in range(5):
                session.get(
                    f"{mock.api_base_url}user/get",
                    params={"access_token": token, "userid": "zhangsan" if n % 2 else "ghost"},
                )
        return n

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sorted(pool.map(work, range(16))) == list(range(16))
    spans = [s for s in instrumented.wecom_spans() if s.name == "wecom user/get"]
    assert len(spans) == 80
    assert all(s.parent is None for s in spans)
    codes = sorted(attrs(s)["wecom.errcode"] for s in spans)
    assert codes.count(0) == 40
    assert codes.count(60111) == 40
    assert instrumented.duration_count() == 81
