"""Every example, run as a user runs it (a subprocess, against the mock it starts itself), and
the spans it prints with the console exporter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 60


def run_example(name: str) -> tuple[str, list[dict[str, Any]]]:
    """Run ``examples/<name>`` with no WeCom or OTLP settings; its stdout and console spans."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WECOM_"))}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        cwd=EXAMPLES.parent,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "calling a mock WeCom" in result.stdout
    assert "console exporter" in result.stdout  # it says where the traces went
    return result.stdout, console_spans(result.stdout)


def console_spans(stdout: str) -> list[dict[str, Any]]:
    """The JSON objects ConsoleSpanExporter printed (each from a "{" line to a "}" line)."""
    spans, block = [], None
    for line in stdout.splitlines():
        if line == "{":
            block = [line]
        elif block is not None:
            block.append(line)
            if line == "}":
                spans.append(json.loads("\n".join(block)))
                block = None
    return spans


def wecom(spans: list[dict[str, Any]], api: str | None = None) -> list[dict[str, Any]]:
    return [
        s
        for s in spans
        if "wecom.api" in s["attributes"] and (api is None or s["attributes"]["wecom.api"] == api)
    ]


def errcodes(spans: list[dict[str, Any]]) -> list[int]:
    return [s["attributes"].get("wecom.errcode") for s in wecom(spans)]


def by_name(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(s for s in spans if s["name"] == name)


def test_httpx_sync() -> None:
    _, spans = run_example("httpx_sync.py")
    assert errcodes(spans) == [0, 0, 60020, 42001, 0, 0]
    assert [s["name"] for s in wecom(spans)][3:] == [
        "wecom message/send",
        "wecom gettoken",
        "wecom message/send",
    ]
    partial = wecom(spans, "message/send")[0]["attributes"]
    assert partial["wecom.message.partial_failure"] is True
    assert partial["wecom.message.invalid.invaliduser"] == 1
    denied = wecom(spans, "user/get")[0]
    assert denied["status"]["status_code"] == "ERROR"
    assert denied["attributes"]["wecom.error.category"] == "ip_whitelist"
    for span in wecom(spans):
        secret = "corpsecret" if span["name"] == "wecom gettoken" else "access_token"
        assert f"{secret}=REDACTED" in span["attributes"]["url.full"]


def test_httpx_async() -> None:
    _, spans = run_example("httpx_async.py")
    sends = wecom(spans, "message/send")
    assert len(sends) == 8
    assert sorted(errcodes(sends)) == [0] * 5 + [45009] * 3
    parent = by_name(spans, "page on-call")
    assert {s["parent_id"] for s in sends} == {parent["context"]["span_id"]}
    limited = next(s for s in sends if s["attributes"]["wecom.errcode"] == 45009)
    assert limited["attributes"]["wecom.error.retryable"] is True


def test_wechatpy_app() -> None:
    stdout, spans = run_example("wechatpy_app.py")
    assert "send_text after the token expired -> 0" in stdout
    assert [s["name"] for s in wecom(spans)] == [
        "wecom gettoken",
        "wecom message/send",
        "wecom message/send",
        "wecom gettoken",
        "wecom message/send",
        "wecom user/get",
        "wecom media/get",
    ]
    assert errcodes(spans)[:6] == [0, 0, 42001, 0, 0, 60111]
    report = by_name(spans, "daily report")
    refresh = wecom(spans)[2:5]
    assert {s["context"]["trace_id"] for s in refresh} == {report["context"]["trace_id"]}
    assert by_name(spans, "wecom media/get")["attributes"]["wecom.media.size"] == 2051


def test_webhook_robot() -> None:
    stdout, spans = run_example("webhook_robot.py")
    assert "rate limited (45009): 3" in stdout
    assert errcodes(spans) == [0] * 20 + [45009] * 3
    assert {s["attributes"]["url.full"].split("?", 1)[1] for s in wecom(spans)} == {"key=REDACTED"}


def test_decorator_client() -> None:
    _, spans = run_example("decorator_client.py")
    assert [s["name"] for s in wecom(spans)] == [
        "wecom gettoken",
        "wecom user/get",
        "wecom user/get",
        "wecom message/send",
    ]
    assert errcodes(spans) == [0, 0, 60111, 0]
    operation = by_name(spans, "welcome new hires")
    assert {s["parent_id"] for s in wecom(spans)[1:]} == {operation["context"]["span_id"]}
    failed = wecom(spans, "user/get")[1]
    assert failed["status"]["status_code"] == "ERROR"
    assert failed["attributes"]["wecom.error.category"] == "not_found"


def test_web_app_self_test() -> None:
    stdout, spans = run_example("web_app.py")
    assert "URL verification ok: True" in stdout
    assert "text pushed, delivered: True" in stdout
    assert "click event pushed, delivered: True" in stdout
    assert "POST /notify -> 200 {'errcode': 0}" in stdout
    assert errcodes(spans).count(60020) == 1
    callback = by_name(spans, "handle callback click")
    child = next(s for s in wecom(spans, "message/send") if s["parent_id"])
    assert child["context"]["trace_id"] in {
        by_name(spans, "handle callback text")["context"]["trace_id"],
        callback["context"]["trace_id"],
    }
    # The one-line middleware: each callback is a SERVER span, the parent of the app's own.
    for event in ("url_verification", "text", "click"):
        server_span = by_name(spans, f"wecom callback {event}")
        assert server_span["kind"] == "SpanKind.SERVER"
        assert server_span["attributes"]["wecom.callback.outcome"] == "ok"
    assert callback["parent_id"] == by_name(spans, "wecom callback click")["context"]["span_id"]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("[!_]*.py")))
def test_every_example_is_tested(name: str) -> None:
    assert f"def test_{name[:-3]}" in Path(__file__).read_text(encoding="utf-8")
