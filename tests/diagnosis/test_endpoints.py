"""Where diagnose, trace and the demo look for Jaeger and Prometheus when not told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opentelemetry.instrumentation.wecom.diagnosis._endpoints import (
    JAEGER_URL_ENV,
    PROMETHEUS_URL_ENV,
    jaeger_url,
    prometheus_url,
)
from opentelemetry.instrumentation.wecom.stack.paths import STATE_ENV
from opentelemetry.instrumentation.wecom.stack.ports import StackPorts


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(STATE_ENV, str(tmp_path))
    monkeypatch.delenv(JAEGER_URL_ENV, raising=False)
    monkeypatch.delenv(PROMETHEUS_URL_ENV, raising=False)
    return tmp_path


def test_without_a_stack_the_default_ports(state: Path) -> None:
    assert jaeger_url() == "http://127.0.0.1:16686"
    assert prometheus_url() == "http://127.0.0.1:9090"


def test_the_ports_of_the_last_stack_up(state: Path) -> None:
    ports = StackPorts().with_overrides({"jaeger_ui": 26686, "prometheus": 19090})
    (state / "stack.json").write_text(json.dumps(ports.as_dict()), encoding="utf-8")

    assert jaeger_url() == "http://127.0.0.1:26686"
    assert prometheus_url() == "http://127.0.0.1:19090"


def test_the_environment_beats_the_stack_and_an_explicit_url_beats_both(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(JAEGER_URL_ENV, " http://jaeger.internal:16686 ")
    monkeypatch.setenv(PROMETHEUS_URL_ENV, "http://mimir.internal/prometheus")

    assert jaeger_url() == "http://jaeger.internal:16686"
    assert prometheus_url() == "http://mimir.internal/prometheus"
    assert jaeger_url("http://other:1") == "http://other:1"
    assert prometheus_url("http://other:2") == "http://other:2"


def test_an_empty_variable_is_ignored(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JAEGER_URL_ENV, "  ")

    assert jaeger_url() == "http://127.0.0.1:16686"
