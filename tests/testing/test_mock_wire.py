"""Wire-level fidelity: errmsg format, headers, 404s, gettoken, token validation order."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from opentelemetry.instrumentation.wecom.testing import MockWeComServer

ERRMSG = re.compile(
    r"^(?P<text>.+), hint: \[\d{25}\], from ip: 127\.0\.0\.1, "
    r"more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=(?P<code>-?\d+)$"
)


def test_business_error_is_http_200_json_with_modern_errmsg(client: httpx.Client) -> None:
    reply = client.get("user/get", params={"access_token": "bogus", "userid": "zhangsan"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json; charset=UTF-8"
    body = reply.json()
    assert body["errcode"] == 40014
    match = ERRMSG.match(body["errmsg"])
    assert match is not None, body["errmsg"]
    assert match["text"] == "invalid access_token"
    assert match["code"] == "40014"
    # WeCom keeps the API's empty default fields in error bodies.
    assert body["department"] == []
    assert body["direct_leader"] == []


@pytest.mark.parametrize("path", ["/cgi-bin/no/such/api", "/", "/cgi-bin/", "/favicon.ico"])
def test_unknown_path_is_404_with_empty_body(wecom_mock: MockWeComServer, path: str) -> None:
    reply = httpx.get(wecom_mock.base_url + path)
    assert reply.status_code == 404
    assert reply.content == b""
    assert reply.headers["content-length"] == "0"


def test_gettoken_errors_in_wecom_order(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    def code(**params: str) -> int:
        errcode: int = client.get("gettoken", params=params).json()["errcode"]
        return errcode

    assert code() == 41004  # corpsecret is checked before corpid
    assert code(corpid=wecom_mock.corp_id) == 41004
    assert code(corpsecret="x") == 41002
    assert code(corpid="wwnope", corpsecret=wecom_mock.corp_secret) == 40013
    assert code(corpid=wecom_mock.corp_id, corpsecret="wrong") == 40001


def test_gettoken_reuses_the_live_token(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    params = {"corpid": wecom_mock.corp_id, "corpsecret": wecom_mock.corp_secret}
    first = client.get("gettoken", params=params).json()
    second = client.get("gettoken", params=params).json()
    assert first["errcode"] == 0
    assert first["errmsg"] == "ok"
    assert first["expires_in"] == 7200
    assert 7198 <= second["expires_in"] <= 7200
    assert second["access_token"] == first["access_token"]
    assert len(first["access_token"]) >= 64


def test_token_ttl_is_configurable() -> None:
    with MockWeComServer(token_ttl=60) as mock:
        reply = httpx.get(
            mock.api_base_url + "gettoken",
            params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
        )
        assert reply.json()["expires_in"] == 60


def test_token_only_from_query_string(client: httpx.Client, token: str) -> None:
    header = client.get("getcallbackip", headers={"Authorization": f"Bearer {token}"})
    assert header.json()["errcode"] == 41001
    assert header.json()["ip_list"] == []
    body = client.post("message/send", json={"access_token": token, "msgtype": "text"})
    assert body.json()["errcode"] == 41001
    assert client.get("getcallbackip", params={"access_token": token}).json()["errcode"] == 0


def test_token_checked_before_parameters(client: httpx.Client) -> None:
    reply = client.post("message/send", params={"access_token": "bad"}, content=b"")
    assert reply.json()["errcode"] == 40014


def test_expired_token_answers_42001_then_refresh_works(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    wecom_mock.expire_tokens()
    assert client.get("getcallbackip", params={"access_token": token}).json()["errcode"] == 42001
    params = {"corpid": wecom_mock.corp_id, "corpsecret": wecom_mock.corp_secret}
    fresh = client.get("gettoken", params=params).json()["access_token"]
    assert fresh != token
    assert client.get("getcallbackip", params={"access_token": fresh}).json()["errcode"] == 0


def test_access_token_helper_matches_gettoken(wecom_mock: MockWeComServer, token: str) -> None:
    assert wecom_mock.access_token() == token


def test_getcallbackip_and_api_domain_ip(client: httpx.Client, token: str) -> None:
    for api in ("getcallbackip", "get_api_domain_ip"):
        body = client.get(api, params={"access_token": token}).json()
        assert body["errcode"] == 0
        assert body["errmsg"] == "ok"
        assert body["ip_list"]


def test_calls_are_recorded_with_secrets_masked(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    client.get("user/get", params={"access_token": token, "userid": "lisi"})
    client.post(
        "webhook/send",
        params={"key": wecom_mock.webhook_key},
        json={"msgtype": "text", "text": {"content": "hi"}},
    )
    calls = wecom_mock.calls()
    assert [c.api for c in calls] == ["gettoken", "user/get", "webhook/send"]
    assert calls[0].query == {"corpid": wecom_mock.corp_id, "corpsecret": "REDACTED"}
    assert calls[1].query == {"access_token": "REDACTED", "userid": "lisi"}
    assert calls[1].method == "GET"
    assert calls[1].status == 200
    assert calls[1].errcode == 0
    assert calls[2].query == {"key": "REDACTED"}
    dumped = json.dumps([c.to_dict() for c in calls])
    for secret in (token, wecom_mock.corp_secret, wecom_mock.webhook_key):
        assert secret not in dumped
    assert [c.api for c in wecom_mock.calls("user/get")] == ["user/get"]


def test_http11_keep_alive_serves_several_requests_on_one_connection(
    wecom_mock: MockWeComServer,
) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", wecom_mock.port, timeout=5)
    try:
        for _ in range(3):
            connection.request("GET", "/cgi-bin/gettoken")
            response = connection.getresponse()
            assert response.version == 11
            assert json.loads(response.read())["errcode"] == 41004
            assert not response.will_close
        sock = connection.sock
        connection.request("GET", "/cgi-bin/nope")
        response = connection.getresponse()
        assert response.status == 404
        assert response.read() == b""
        assert connection.sock is sock  # still the same TCP connection
    finally:
        connection.close()


def test_chunked_request_body_is_read(
    client: httpx.Client, token: str, wecom_mock: MockWeComServer
) -> None:
    payload = json.dumps(
        {
            "touser": "zhangsan",
            "msgtype": "text",
            "agentid": wecom_mock.agent_id,
            "text": {"content": "chunked"},
        }
    ).encode()

    def chunks() -> object:
        yield payload[:10]
        yield payload[10:]

    reply = client.post("message/send", params={"access_token": token}, content=chunks())  # type: ignore[arg-type]
    assert reply.json()["errcode"] == 0


def test_debug_log_lines_mask_credentials(
    wecom_mock: MockWeComServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG", logger="opentelemetry.instrumentation.wecom.testing"):
        token = client.get(
            "gettoken", params={"corpid": wecom_mock.corp_id, "corpsecret": wecom_mock.corp_secret}
        ).json()["access_token"]
        client.get("getcallbackip", params={"access_token": token})
        client.post("webhook/send", params={"key": wecom_mock.webhook_key}, json={})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "access_token=REDACTED" in text
    assert "corpsecret=REDACTED" in text
    for secret in (token, wecom_mock.corp_secret, wecom_mock.webhook_key):
        assert secret not in text


def test_the_mock_masks_every_secret_the_instrumentation_redacts(
    wecom_mock: MockWeComServer,
) -> None:
    """The mock keeps its own credential list (it imports nothing of the instrumentation)."""
    from opentelemetry.instrumentation.wecom import _redaction
    from opentelemetry.instrumentation.wecom.testing import REDACTED
    from opentelemetry.instrumentation.wecom.testing.calls import mask_query, mask_text

    assert REDACTED == _redaction.REDACTED
    for name in _redaction.SECRET_PARAMS:
        assert mask_query({name: "s3cr3t-value", "userid": "lisi"}) == {
            name: REDACTED,
            "userid": "lisi",
        }, name
        line = f"GET /cgi-bin/x?{name}=s3cr3t-value&userid=lisi HTTP/1.1"
        assert mask_text(line) == f"GET /cgi-bin/x?{name}={REDACTED}&userid=lisi HTTP/1.1"
        assert mask_text(f'{{"{name}": "s3cr3t-value"}}') == f'{{"{name}": "{REDACTED}"}}'


def test_head_request_gets_headers_only(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    reply = client.head("gettoken")
    assert reply.status_code == 200
    assert int(reply.headers["content-length"]) > 0
    assert reply.content == b""


def test_a_failing_handler_answers_500_not_a_dropped_connection(
    wecom_mock: MockWeComServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.instrumentation.wecom.testing import apis

    def broken(self: object, request: object) -> object:
        raise RuntimeError("bug")

    monkeypatch.setitem(apis._SPECS, "getcallbackip", apis._Spec(broken))  # type: ignore[arg-type]
    reply = client.get("getcallbackip", params={"access_token": wecom_mock.access_token()})
    assert reply.status_code == 500
    assert wecom_mock.calls()[-1].status == 500
