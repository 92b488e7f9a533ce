"""The collector's secret-scrubbing statements: one shared pattern, and what it redacts.

The OTTL regex is RE2; the subset it uses here means the same in Python's ``re``, so the
cases below run offline. The E2E canary test proves the real collector applies it.
"""

from __future__ import annotations

import re

import pytest
import yaml

from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir

SECRET_PARAMS = (
    "access_token",
    "corpsecret",
    "key",
    "suite_access_token",
    "provider_access_token",
    "code",
    "auth_code",
    "js_code",
    "secret",
    "provider_secret",
    "suite_secret",
    "suite_ticket",
    "permanent_code",
    "user_ticket",
    "pre_auth_code",
    "ticket",
    "session_key",
)
_CALL = re.compile(
    r"^replace_(?:all_)?patterns?\((?P<target>[^,]+), (?:\"value\", )?"
    r'"(?P<pattern>.*)", "(?P<replacement>[^"]*)"\)(?: where .*)?$'
)


def _statements() -> list[str]:
    config = yaml.safe_load((bundle_dir() / "otelcol-config.yaml").read_text(encoding="utf-8"))
    transform = config["processors"]["transform/scrub_secrets"]
    return [
        statement
        for kind in ("trace_statements", "metric_statements", "log_statements")
        for group in transform[kind]
        for statement in group["statements"]
    ]


def _parsed() -> list[re.Match[str]]:
    matches = [_CALL.match(s) for s in _statements()]
    assert all(matches), _statements()
    return [m for m in matches if m is not None]


def scrub(text: str) -> str:
    match = _parsed()[0]
    pattern = match["pattern"].encode().decode("unicode_escape")  # OTTL string escapes
    replacement = match["replacement"].replace("$${1}", r"\g<1>")  # $$ is the config's escape
    return re.sub(pattern, replacement, text)


def test_one_pattern_everywhere() -> None:
    parsed = _parsed()
    assert len({(m["pattern"], m["replacement"]) for m in parsed}) == 1
    targets = {m["target"] for m in parsed}
    assert {
        "resource.attributes",
        "span.attributes",
        "span.name",
        "span.status.message",
        "spanevent.attributes",
        "spanevent.name",
        "datapoint.attributes",
        "log.attributes",
        "log.body",
    } <= targets


@pytest.mark.parametrize("name", SECRET_PARAMS)
def test_every_secret_param_is_redacted_keeping_the_key(name: str) -> None:
    assert scrub(f"https://qyapi.weixin.qq.com/cgi-bin/x?a=1&{name}=S3cr3t&b=2") == (
        f"https://qyapi.weixin.qq.com/cgi-bin/x?a=1&{name}=REDACTED&b=2"
    )
    json_body = f'{{"{name}": "S3cr3t", "errcode": 0}}'
    assert scrub(json_body) == json_body.replace("S3cr3t", "REDACTED")
    assert scrub(f"GET /cgi-bin/x?{name}=S3cr3t") == f"GET /cgi-bin/x?{name}=REDACTED"


@pytest.mark.parametrize(
    "text",
    [
        "errcode=0&errmsg=ok",
        "wecom message/send",
        "xkey=keep&monkey=business",
        '{"errcode": 42001, "errmsg": "access_token expired"}',
    ],
)
def test_lookalikes_are_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_case_insensitive_and_repeated() -> None:
    assert scrub("?ACCESS_TOKEN=a&CorpSecret=b") == "?ACCESS_TOKEN=REDACTED&CorpSecret=REDACTED"
