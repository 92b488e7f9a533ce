"""``wecom-otel trace`` as a user runs it: a subprocess against recorded Jaeger answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest

from opentelemetry.instrumentation.wecom.diagnosis import JAEGER_URL_ENV
from opentelemetry.instrumentation.wecom.stack.paths import STATE_ENV
from opentelemetry.instrumentation.wecom.stack.ports import StackPorts
from tests._support import closed_port
from tests.diagnosis.replay import Exchange, Replay, replay_server
from tests.diagnosis.samples import TRACE_NAMES

TOKEN_REFRESH = TRACE_NAMES["token_refresh"]
UNKNOWN = "0" * 31 + "1"


@pytest.fixture
def jaeger() -> Iterator[Replay]:
    with replay_server() as replay:
        replay.route(f"/api/v3/traces/{TOKEN_REFRESH}", Exchange.load("trace_token_refresh"))
        replay.route(f"/api/v3/traces/{UNKNOWN}", Exchange.load("trace_unknown"))
        yield replay


def wecom_otel(
    *args: str, env: Optional[dict[str, str]] = None, cwd: Optional[Path] = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in (JAEGER_URL_ENV, STATE_ENV)}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "opentelemetry.instrumentation.wecom.cli", "trace", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_draws_the_waterfall_with_attributes_in_the_terminal(jaeger: Replay) -> None:
    result = wecom_otel(TOKEN_REFRESH, "--jaeger", jaeger.url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Trace {TOKEN_REFRESH}"
    rows = [line for line in lines if line.rstrip().endswith("|")]
    assert [row.strip().split("  ")[0] for row in rows] == [
        "app token_refresh",
        "wecom message/send",
        "wecom gettoken",
        "wecom message/send",
    ]
    assert "errcode 42001" in rows[1]
    assert rows[1].startswith("  wecom message/send")  # indented under its parent
    assert "wecom.errmsg = access_token expired" in result.stdout
    assert "access_token=REDACTED" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour
    assert result.stderr == ""


def test_writes_a_self_contained_html_page(jaeger: Replay, tmp_path: Path) -> None:
    page = tmp_path / "trace.html"

    result = wecom_otel(TOKEN_REFRESH, "--jaeger", jaeger.url, "--html", str(page))

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == f"wecom-otel trace: wrote {page} (4 spans)"
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert f'id="trace-{TOKEN_REFRESH}"' in html
    assert "wecom gettoken" in html


def test_prints_the_trace_as_json(jaeger: Replay) -> None:
    result = wecom_otel(TOKEN_REFRESH, "--jaeger", jaeger.url, "--json")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["trace_id"] == TOKEN_REFRESH
    assert [span["name"] for span in document["spans"]][2] == "wecom gettoken"
    assert document["spans"][1]["attributes"]["wecom.errcode"] == 42001


def test_an_unknown_trace_exits_1_naming_the_url(jaeger: Replay) -> None:
    result = wecom_otel("1", "--jaeger", jaeger.url)

    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"wecom-otel trace: Jaeger at {jaeger.url} has no trace 1 ")


def test_an_unreachable_jaeger_exits_2_with_one_line_naming_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = wecom_otel(TOKEN_REFRESH, "--jaeger", url)

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"wecom-otel trace: Jaeger at {url} is unavailable: connection refused")
    assert "wecom-otel stack up" in line


def test_a_url_that_is_not_jaeger_exits_2() -> None:
    with replay_server() as prometheus:
        prometheus.route(
            f"/api/v3/traces/{TOKEN_REFRESH}", Exchange.load("wrong_backend_prometheus")
        )
        result = wecom_otel(TOKEN_REFRESH, "--jaeger", prometheus.url)

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"Jaeger at {prometheus.url} is unavailable" in line


def test_a_malformed_trace_id_exits_2_without_asking(jaeger: Replay) -> None:
    result = wecom_otel("not-a-trace", "--jaeger", jaeger.url)

    assert result.returncode == 2
    assert "1 to 32 hex digits" in result.stderr
    assert jaeger.requests == []


def test_the_url_comes_from_the_environment(jaeger: Replay) -> None:
    result = wecom_otel(TOKEN_REFRESH, "--json", env={JAEGER_URL_ENV: jaeger.url})

    assert result.returncode == 0, result.stderr
    assert len(jaeger.requests) == 1


def test_without_url_it_asks_the_jaeger_of_the_last_stack_up(
    jaeger: Replay, tmp_path: Path
) -> None:
    port = int(jaeger.url.rsplit(":", 1)[1])
    ports = StackPorts().with_overrides({"jaeger_ui": port})
    (tmp_path / "stack.json").write_text(json.dumps(ports.as_dict()), encoding="utf-8")

    result = wecom_otel(TOKEN_REFRESH, "--json", env={STATE_ENV: str(tmp_path)})

    assert result.returncode == 0, result.stderr
    assert len(jaeger.requests) == 1
