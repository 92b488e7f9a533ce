"""wechatpy 1.8.18 end to end: its requests Session, its token refresh, its module-level download.

wechatpy hard-codes ``https://qyapi.weixin.qq.com``; the ``qyapi_is_the_mock`` fixture
plays DNS, rewriting that origin to the mock below requests' ``Session.send`` (in the
transport adapter), so the instrumentation sees the real WeCom URL with default settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from opentelemetry.trace import StatusCode
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .conftest import Telemetry, attrs

WECOM_ORIGIN = "https://qyapi.weixin.qq.com"


@pytest.fixture
def qyapi_is_the_mock(mock: MockWeComServer, monkeypatch: pytest.MonkeyPatch) -> MockWeComServer:
    original_send = requests.adapters.HTTPAdapter.send

    def send(
        self: requests.adapters.HTTPAdapter,
        request: requests.PreparedRequest,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if request.url and request.url.startswith(WECOM_ORIGIN):
            request = request.copy()
            request.url = mock.base_url + request.url[len(WECOM_ORIGIN) :]
        return original_send(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return mock


@pytest.fixture
def default_instrumentation(telemetry: Telemetry) -> Iterator[Telemetry]:
    with telemetry.instrumenting():
        yield telemetry


def test_token_refresh_on_42001_is_visible_in_one_trace(
    default_instrumentation: Telemetry, qyapi_is_the_mock: MockWeComServer
) -> None:
    mock = qyapi_is_the_mock
    client = WeChatClient(mock.corp_id, mock.corp_secret)
    tracer = default_instrumentation.tracer_provider.get_tracer("app")

    first = client.message.send_text(mock.agent_id, ["zhangsan"], "first")
    assert first["errcode"] == 0
    old_token = client.access_token
    mock.expire_tokens()
    with tracer.start_as_current_span("notify-oncall") as parent:
        second = client.message.send_text(mock.agent_id, ["zhangsan"], "second")
    assert second["errcode"] == 0
    new_token = client.access_token
    assert new_token != old_token

    spans = default_instrumentation.wecom_spans()
    assert [s.name for s in spans] == [
        "wecom gettoken",
        "wecom message/send",
        "wecom message/send",
        "wecom gettoken",
        "wecom message/send",
    ]
    expired, refresh, retried = spans[2:]
    assert attrs(expired)["wecom.errcode"] == 42001
    assert attrs(expired)["wecom.error.retryable"] is True
    assert expired.status.status_code is StatusCode.ERROR
    assert attrs(refresh)["wecom.errcode"] == 0
    assert attrs(retried)["wecom.errcode"] == 0
    trace_id = parent.get_span_context().trace_id
    assert {s.context.trace_id for s in (expired, refresh, retried)} == {trace_id}
    assert all(
        s.parent is not None and s.parent.span_id == parent.get_span_context().span_id
        for s in (expired, refresh, retried)
    )
    assert default_instrumentation.duration_count() == 5

    dump = default_instrumentation.dump()
    for secret in (mock.corp_secret, old_token, new_token):
        assert secret not in dump


def test_business_error_surfaces_as_wechatpy_exception(
    default_instrumentation: Telemetry, qyapi_is_the_mock: MockWeComServer
) -> None:
    mock = qyapi_is_the_mock
    mock.inject(api="user/get", errcode=60020)
    client = WeChatClient(mock.corp_id, mock.corp_secret)
    with pytest.raises(WeChatClientException) as raised:
        client.user.get("zhangsan")
    assert raised.value.errcode == 60020
    span = default_instrumentation.wecom_spans()[-1]
    a = attrs(span)
    assert a["wecom.errcode"] == 60020
    assert a["wecom.error.category"] == "ip_whitelist"
    assert a["wecom.error.retryable"] is False


def test_media_download_through_module_level_requests_get(
    default_instrumentation: Telemetry, qyapi_is_the_mock: MockWeComServer
) -> None:
    mock = qyapi_is_the_mock
    data = b"\xff\xd8\xff" + b"\x01" * 20_000
    media_id = mock.add_media(data, "scan.jpg", "image/jpeg")
    client = WeChatClient(mock.corp_id, mock.corp_secret)
    response = client.media.download(media_id)
    assert response.content == data
    span = default_instrumentation.wecom_spans()[-1]
    a = attrs(span)
    assert span.name == "wecom media/get"
    assert a["wecom.media.content_type"] == "image/jpeg"
    assert a["wecom.media.size"] == len(data)
    assert "media_id=" in a["url.full"]
    assert "access_token=REDACTED" in a["url.full"]
