"""``wecom-otel trace`` and the Jaeger client against the real Jaeger of the shared stack."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pytest
from wechatpy.exceptions import WeChatClientException

from opentelemetry.instrumentation.wecom.diagnosis import JaegerClient, TraceView
from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client
from tests._support import poll
from tests.e2e.conftest import App, Stack

pytestmark = pytest.mark.e2e


def test_a_60020_trace_is_found_by_errcode_and_drawn_by_wecom_otel_trace(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App], tmp_path: Path
) -> None:
    app = make_app("trace-command", **{"service.version": "7.1.0"})
    client = wechatpy_client(mock, timeout=5)
    started = datetime.now(timezone.utc) - timedelta(seconds=5)
    mock.inject(api="user/get", errcode=60020, times=1)
    span = app.tracer.start_as_current_span("look up the on-call person")
    with span, pytest.raises(WeChatClientException):
        client.user.get("lisi")
    app.flush()
    jaeger = JaegerClient(stack.jaeger.base_url)

    def search() -> list[TraceView]:
        return jaeger.find_traces(
            app.service,
            started,
            datetime.now(timezone.utc) + timedelta(seconds=5),
            {"wecom.errcode": "60020"},
        )

    # The error span reaches Jaeger first (the collector's fast path for error spans); its
    # parent follows when tail sampling decides on the whole trace: wait for both.
    def complete(traces: list[TraceView]) -> bool:
        return bool(traces) and any(s.name == "look up the on-call person" for s in traces[0].spans)

    found = poll(search, complete, timeout=30)
    assert len(found) == 1, "Jaeger did not return the 60020 trace"
    assert complete(found), "the 60020 trace never became complete in Jaeger"
    (trace,) = found
    failed = next(span for span in trace.spans if span.attributes.get("wecom.errcode") == 60020)
    assert failed.resource["service.version"] == "7.1.0"
    assert "from ip:" in str(failed.attributes["wecom.errmsg"])
    assert jaeger.trace(trace.trace_id) == trace

    command = [sys.executable, "-m", "opentelemetry.instrumentation.wecom.cli", "trace"]
    shown = subprocess.run(
        [*command, trace.trace_id, "--jaeger", stack.jaeger.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "look up the on-call person" in shown.stdout
    assert "errcode 60020" in shown.stdout

    page = tmp_path / "trace.html"
    written = subprocess.run(
        [*command, trace.trace_id, "--jaeger", stack.jaeger.base_url, "--html", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert written.returncode == 0, written.stderr
    assert "not allow to access from your ip" in page.read_text(encoding="utf-8")

    missing = subprocess.run(
        [*command, "0" * 31 + "7", "--jaeger", stack.jaeger.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert stack.jaeger.base_url in missing.stderr
