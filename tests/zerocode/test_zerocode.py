"""Zero-code: the real ``opentelemetry-instrument`` loads WeComInstrumentor from its entry point."""

from __future__ import annotations

from typing import Any

import pytest
from importlib_metadata import distribution, entry_points
from opentelemetry.instrumentation.dependencies import get_dist_dependency_conflicts

from opentelemetry.instrumentation.wecom import WeComInstrumentor

ERRCODES = {"wecom gettoken": 0, "wecom message/send": 0, "wecom user/get": 40014}


def test_entry_point_passes_the_auto_loaders_dependency_check() -> None:
    (entry_point,) = [
        ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "wecom"
    ]
    assert entry_point.load() is WeComInstrumentor
    # What _load_instrumentors checks before loading: the instruments/instruments-any extras.
    assert (
        get_dist_dependency_conflicts(distribution("opentelemetry-instrumentation-wecom")) is None
    )


def test_configured_from_the_environment_only(instrument_run: Any, wecom: Any) -> None:
    run = instrument_run(
        {"OTEL_PYTHON_WECOM_HOSTS": wecom.host, "OTEL_PYTHON_WECOM_REDACT_PARAMS": "userid"}
    )

    assert run.returncode == 0, run.stderr
    assert run.report["instrumented"] is True
    assert run.report["errcodes"] == [0, 0, 40014]
    spans = run.wecom_spans()
    assert {name: s["attributes"]["wecom.errcode"] for name, s in spans.items()} == ERRCODES
    assert spans["wecom user/get"]["status"]["status_code"] == "ERROR"
    assert "userid=REDACTED" in spans["wecom user/get"]["attributes"]["url.full"]
    assert all(s["resource"]["attributes"]["service.name"] == "zero-code" for s in spans.values())
    points = run.histogram_points("wecom.client.duration")
    assert sum(p["count"] for p in points) == 3
    # By default the stock httpx instrumentation records no child span with the raw token.
    wecom_ids = {s["context"]["span_id"] for s in spans.values()}
    assert not [s for s in run.spans if s["parent_id"] in wecom_ids]
    assert run.report["token"] not in run.stdout
    assert wecom.corp_secret not in run.stdout


def test_other_hosts_are_untouched(instrument_run: Any) -> None:
    run = instrument_run({})  # OTEL_PYTHON_WECOM_HOSTS unset: only qyapi.weixin.qq.com is WeCom
    assert run.returncode == 0, run.stderr
    assert run.report["instrumented"] is True
    assert run.wecom_spans() == {}


@pytest.mark.usefixtures("stock_httpx_instrumentation")
def test_disabled_instrumentations_turns_it_off(instrument_run: Any, wecom: Any) -> None:
    run = instrument_run(
        {"OTEL_PYTHON_WECOM_HOSTS": wecom.host, "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "wecom"}
    )
    assert run.returncode == 0, run.stderr
    assert run.report["instrumented"] is False
    assert run.report["errcodes"] == [0, 0, 40014]
    assert run.wecom_spans() == {}
    assert run.spans  # the stock httpx instrumentation is still on
    assert run.histogram_points("wecom.client.duration") == []


@pytest.mark.usefixtures("stock_httpx_instrumentation")
def test_keep_http_spans_keeps_the_stock_child_spans(instrument_run: Any, wecom: Any) -> None:
    run = instrument_run(
        {"OTEL_PYTHON_WECOM_HOSTS": wecom.host, "OTEL_PYTHON_WECOM_KEEP_HTTP_SPANS": "true"}
    )
    assert run.returncode == 0, run.stderr
    spans = run.wecom_spans()
    assert set(spans) == set(ERRCODES)
    children = {s["parent_id"]: s["name"] for s in run.spans if not s["name"].startswith("wecom ")}
    assert {children.get(s["context"]["span_id"]) for s in spans.values()} == {"GET", "POST"}
    # The risk documented in docs/configuration.md: the stock span carries the raw token.
    assert run.report["token"] in run.stdout
