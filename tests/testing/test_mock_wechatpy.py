"""wechatpy 1.8.18 against the mock: the SDK sees what it would see from WeCom."""

from __future__ import annotations

import io
from typing import Any

import pytest
from wechatpy import exceptions

from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client


def make_client(mock: MockWeComServer) -> Any:
    return wechatpy_client(mock, timeout=5)


def test_send_text_with_partial_failure(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    result = client.message.send_text(wecom_mock.agent_id, ["zhangsan", "Nobody"], "hello")
    assert result["errcode"] == 0
    assert result["invaliduser"] == "nobody"
    assert [c.api for c in wecom_mock.calls()] == ["gettoken", "message/send"]


def test_expired_token_is_refreshed_by_wechatpy(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    client.user.get("lisi")
    wecom_mock.expire_tokens()
    assert client.user.get("lisi")["userid"] == "lisi"
    assert [(c.api, c.errcode) for c in wecom_mock.calls()] == [
        ("gettoken", 0),
        ("user/get", 0),
        ("user/get", 42001),
        ("gettoken", 0),
        ("user/get", 0),
    ]


def test_45009_raises_api_limited(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    wecom_mock.inject(api="message/send", errcode=45009)
    with pytest.raises(exceptions.APILimitedException) as caught:
        client.message.send_text(wecom_mock.agent_id, "zhangsan", "hi")
    assert caught.value.errcode == 45009


def test_business_errors_raise_with_errcode(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    with pytest.raises(exceptions.WeChatClientException) as caught:
        client.user.get("ghost")
    assert caught.value.errcode == 60111
    with pytest.raises(exceptions.WeChatClientException) as wrong:
        client.message.send_text(wecom_mock.agent_id, "a|b", "hi")
    assert wrong.value.errcode == 81013


def test_bad_secret_fails_the_token_fetch(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    client.secret = "wrong"
    with pytest.raises(exceptions.WeChatClientException) as caught:
        client.user.get("lisi")
    assert caught.value.errcode == 40001


def test_http_502_raises_client_exception(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    client.fetch_access_token()
    wecom_mock.inject(api="user/get", http_status=502)
    with pytest.raises(exceptions.WeChatClientException) as caught:
        client.user.get("lisi")
    assert caught.value.response.status_code == 502


def test_media_upload_and_user_list(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    uploaded = client.media.upload("file", io.BytesIO(b"report contents"))
    assert uploaded["errcode"] == 0
    assert uploaded["media_id"]
    assert len(client.user.list(1)) == 200


def test_media_download_goes_to_the_mock(wecom_mock: MockWeComServer) -> None:
    client = make_client(wecom_mock)
    media_id = wecom_mock.add_media(b"\x89PNG fake image", "logo.png", "image/png")
    response = client.media.download(media_id)
    assert response.status_code == 200
    assert response.content == b"\x89PNG fake image"
    assert wecom_mock.calls("media/get")[0].query["access_token"] == "REDACTED"


def test_explicit_credentials_override_the_defaults(wecom_mock: MockWeComServer) -> None:
    client = wechatpy_client(wecom_mock, secret="wrong")
    with pytest.raises(exceptions.WeChatClientException) as caught:
        client.fetch_access_token()
    assert caught.value.errcode == 40001
