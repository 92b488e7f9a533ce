"""One warning per collector outage: the probe, export results and the exporters' own records."""

from __future__ import annotations

import logging

import pytest

from opentelemetry.instrumentation.wecom._export_config import OtlpTarget, resolve_signal
from opentelemetry.instrumentation.wecom._export_health import ExportHealth
from tests._support import closed_port

HEALTH_LOGGER = "opentelemetry.instrumentation.wecom._export_health"


def _target(endpoint: str) -> OtlpTarget:
    target = resolve_signal("traces", endpoint=endpoint, environ={}).otlp
    assert target is not None
    return target


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == HEALTH_LOGGER and r.levelno == logging.WARNING
    ]


def test_one_warning_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    target = _target("http://collector.invalid:4318")
    health = ExportHealth([target])
    record = logging.LogRecord(
        "opentelemetry.exporter.otlp.common.http",
        logging.ERROR,
        __file__,
        1,
        "Failed to export %s batch code: %s",
        ("spans", 503),
        None,
    )
    with caplog.at_level(logging.DEBUG):
        assert health.filter(record) is False
        for _ in range(5):
            health.export_result(target, ok=False)
        assert health.failing()
        health.export_result(target, ok=True)
        assert not health.failing()
        health.export_result(target, ok=False)
    warnings = _warnings(caplog)
    assert len(warnings) == 2
    assert "http://collector.invalid:4318" in warnings[0]
    assert "Failed to export spans batch code: 503" in warnings[0]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("Failed to export spans batch code: 503" in m for m in debug)


def test_records_below_warning_pass() -> None:
    health = ExportHealth([])
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "retrying", (), None)
    assert health.filter(record) is True


def test_probe_warns_when_nothing_listens(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    health = ExportHealth([_target(endpoint)])
    with caplog.at_level(logging.WARNING):
        health.start_probe()
        assert health.failing()
    (warning,) = _warnings(caplog)
    assert endpoint in warning
    assert "from endpoint" in warning


def test_probe_is_skipped_behind_a_proxy(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    health = ExportHealth([_target(f"http://127.0.0.1:{closed_port()}")])
    with caplog.at_level(logging.WARNING):
        health.start_probe()
        assert not health.failing()
    assert _warnings(caplog) == []
