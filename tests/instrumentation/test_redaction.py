"""Secrets in URLs and free text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opentelemetry.instrumentation.wecom._redaction import (
    SECRET_PARAMS,
    redacted_url,
    scrub,
    secret_values,
)
from opentelemetry.instrumentation.wecom._url import RequestTarget


def _target(query: str, *, scheme: str = "https", port: int = 443) -> RequestTarget:
    return RequestTarget(scheme, "qyapi.weixin.qq.com", port, "/cgi-bin/message/send", query)


@pytest.mark.parametrize(
    ("query", "expected_query"),
    [
        ("access_token=SECRET", "access_token=REDACTED"),
        ("access_token=SECRET&debug=1", "access_token=REDACTED&debug=1"),
        ("corpid=ww1&corpsecret=SECRET", "corpid=ww1&corpsecret=REDACTED"),
        ("key=SECRET", "key=REDACTED"),
        (
            "suite_access_token=S&provider_access_token=P",
            "suite_access_token=REDACTED&provider_access_token=REDACTED",
        ),
        (
            "code=ONE&js_code=TWO&auth_code=THREE",
            "code=REDACTED&js_code=REDACTED&auth_code=REDACTED",
        ),
        ("ACCESS_TOKEN=SECRET", "ACCESS_TOKEN=REDACTED"),
        ("access%5Ftoken=SECRET", "access%5Ftoken=REDACTED"),
        ("userid=zhangsan&media_id=M1", "userid=zhangsan&media_id=M1"),
        ("flag", "flag"),
    ],
)
def test_redacted_url_keeps_keys_and_hides_values(query: str, expected_query: str) -> None:
    url = redacted_url(_target(query))
    assert url == f"https://qyapi.weixin.qq.com/cgi-bin/message/send?{expected_query}"
    assert "SECRET" not in url


def test_redacted_url_shows_non_default_ports_only() -> None:
    assert redacted_url(_target("", scheme="http", port=8080)).startswith(
        "http://qyapi.weixin.qq.com:8080/"
    )
    assert (
        redacted_url(_target("", scheme="http", port=80))
        == "http://qyapi.weixin.qq.com/cgi-bin/message/send"
    )


def test_extra_redact_params() -> None:
    url = redacted_url(_target("sign=abc&x=1"), frozenset({"sign"}))
    assert url.endswith("?sign=REDACTED&x=1")


def test_secret_values_returns_raw_and_decoded_values() -> None:
    assert secret_values("access_token=a%2Bb&x=1&key=k") == ["a%2Bb", "a+b", "k"]


@pytest.mark.parametrize(
    "text",
    [
        "Max retries exceeded with url: /cgi-bin/message/send?access_token=TOPSECRET123 (...)",
        "HTTPStatusError for url 'https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpsecret=TOPSECRET123'",
        '{"corpsecret": "TOPSECRET123"}',
        "provider_secret: TOPSECRET123",
        # aiohttp quotes raw body bytes in some exceptions: escaped JSON inside a bytes repr.
        """Data after: b'{"errmsg": "x {\\\\"corpsecret\\\\": \\\\"TOPSECRET123\\\\"}"}'""",
        "access_token=TOP\\SECRET123&userid=zhangsan",
    ],
)
def test_scrub_removes_secret_values_from_text(text: str) -> None:
    cleaned = scrub(text)
    assert "SECRET123" not in cleaned
    assert "REDACTED" in cleaned


def test_scrub_removes_known_values_wherever_they_appear() -> None:
    assert (
        scrub("token TOPSECRET123 was rejected", ["TOPSECRET123"]) == "token REDACTED was rejected"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "invalid credential, access_token is invalid or not latest: AbC123_-xyz7890QQ",
            "invalid credential, access_token is invalid or not latest: REDACTED",
        ),
        (
            "the suite_ticket you sent = AbC123_-xyz7890QQ\ud800 was revoked",
            "the suite_ticket you sent = REDACTED\ud800 was revoked",
        ),
    ],
)
def test_scrub_removes_a_credential_named_earlier_in_the_same_clause(
    text: str, expected: str
) -> None:
    """The fuzz's long run found a token after `access_token is ... latest:` (docs/fuzzing.md)."""
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "access_token expired, hint: [1773643642077182456917975], errcode: 42001",
        "invalid code from ip: 116.228.111.222, more info at https://open.work.weixin.qq.com",
        "wrong token kind: access_token vs suite_access_token vs provider_access_token",
    ],
)
def test_scrub_leaves_ordinary_text_alone(text: str) -> None:
    assert scrub(text) == text


def test_the_secrets_section_of_the_telemetry_doc_lists_exactly_the_secret_params() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "telemetry.md").read_text(encoding="utf-8")
    section = doc.split("## Secrets\n", 1)[1].split("\n## ", 1)[0]
    item = section.split("- query parameters", 1)[1].split("plus any listed in", 1)[0]
    assert re.findall(r"`([a-z_]+)`", item) == list(SECRET_PARAMS)
    assert len(set(SECRET_PARAMS)) == len(SECRET_PARAMS)
    assert all(name == name.lower() for name in SECRET_PARAMS)
