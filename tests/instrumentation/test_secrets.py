"""Canary secrets appear in nothing the process exports: spans, events, statuses, metrics, logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
import requests

from opentelemetry.instrumentation.wecom import wecom_api
from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .conftest import Telemetry

CORP_SECRET = "CANARY-corpsecret-7f3a9b"
WEBHOOK_KEY = "c0ffee00-cafe-4bad-beef-00000canary1"
SUITE_TOKEN = "CANARY-suite-token-51d2"
OAUTH_CODE = "CANARY-oauth-code-88e1"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Only this package's records: httpx and urllib3 log raw URLs themselves.
        if record.name.startswith("opentelemetry.instrumentation.wecom"):
            self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in self.records)


@pytest.fixture
def logs() -> Iterator[_Capture]:
    capture = _Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)


def test_no_canary_anywhere(telemetry: Telemetry, logs: _Capture) -> None:
    with (
        MockWeComServer(corp_secret=CORP_SECRET, webhook_key=WEBHOOK_KEY) as mock,
        telemetry.instrumenting(hosts=[mock.host, "127.0.0.1:9"], call_log=True),
    ):
        tokens = _exercise(mock)
    exported = telemetry.dump()
    logged = logs.text()
    assert "wecom message/send" in exported
    assert "trace_id" in logged
    for canary in (CORP_SECRET, WEBHOOK_KEY, SUITE_TOKEN, OAUTH_CODE, *tokens):
        assert canary not in exported, canary
        assert canary not in logged, canary


def _exercise(mock: MockWeComServer) -> list[str]:
    api = mock.api_base_url
    token = httpx.get(
        f"{api}gettoken", params={"corpid": mock.corp_id, "corpsecret": CORP_SECRET}
    ).json()["access_token"]
    requests.post(
        f"{api}message/send", params={"access_token": token}, json={"touser": "ghost|zhangsan"}
    )
    requests.post(
        f"{api}webhook/send",
        params={"key": WEBHOOK_KEY},
        json={"msgtype": "text", "text": {"content": "x"}},
    )
    httpx.get(f"{api}service/get_pre_auth_code", params={"suite_access_token": SUITE_TOKEN})
    httpx.get(f"{api}auth/getuserinfo", params={"access_token": token, "code": OAUTH_CODE})
    # A gateway that echoes the token in errmsg.
    mock.inject(api="user/get", errcode=40014, errmsg=f"invalid access_token {token}, hint: [1]")
    httpx.get(f"{api}user/get", params={"access_token": token, "userid": "zhangsan"})
    # Exceptions whose text embeds the URL.
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/cgi-bin/user/get", params={"access_token": token})

    @wecom_api("department/list")
    def strict_call() -> None:
        response = httpx.get(f"{api}department/list", params={"access_token": token})
        response.status_code = 500
        response.raise_for_status()

    with pytest.raises(httpx.HTTPStatusError):
        strict_call()
    return [token]
