"""Metrics through the real collector into real Prometheus: series, counts, alerts, probe."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Callable

import pytest
import yaml
from wechatpy.exceptions import WeChatClientException

from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client
from tests._support import poll
from tests.e2e.backends import get_json
from tests.e2e.conftest import App, Stack

pytestmark = pytest.mark.e2e


def _rules(directory: Path) -> dict[str, dict[str, object]]:
    rules = {}
    for path in directory.glob("*.yml"):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                rules[str(rule.get("alert") or rule.get("record"))] = rule
    return rules


def test_duration_histogram_and_span_metrics_carry_api_and_errcode(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    app = make_app("metrics")
    client = wechatpy_client(mock, timeout=5)
    for _ in range(5):
        client.user.get("lisi")
    for _ in range(2):
        with pytest.raises(WeChatClientException, match="60111"):
            client.user.get("ghost")
    app.flush()
    expected = {("gettoken", "0"): 1.0, ("user/get", "0"): 5.0, ("user/get", "60111"): 2.0}

    histogram = poll(
        lambda: stack.prometheus.values(
            "sum by (wecom_api, wecom_errcode) "
            f'(wecom_client_duration_seconds_count{{job="{app.service}"}})',
            "wecom_api",
            "wecom_errcode",
        ),
        lambda found: found == expected,
        timeout=30,
    )
    assert histogram == expected
    buckets = stack.prometheus.query(
        f'wecom_client_duration_seconds_bucket{{job="{app.service}",wecom_api="user/get"}}'
    )
    assert {b["metric"]["wecom_status"] for b in buckets} == {"ok", "business_error"}

    span_metrics = poll(
        lambda: stack.prometheus.values(
            "sum by (wecom_api, wecom_errcode) (traces_span_metrics_calls_total"
            f'{{service_name="{app.service}",span_kind="SPAN_KIND_CLIENT"}})',
            "wecom_api",
            "wecom_errcode",
        ),
        lambda found: found == expected,
        timeout=30,
    )
    assert span_metrics == expected
    errors = stack.prometheus.values(
        f'traces_span_metrics_calls_total{{service_name="{app.service}",wecom_errcode="60111"}}',
        "span_name",
        "status_code",
    )
    assert errors == {("wecom user/get", "STATUS_CODE_ERROR"): 2.0}


def test_error_storm_fires_the_bundled_error_ratio_alert(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    loaded = _rules(stack.local.state / "rules")
    bundled = _rules(bundle_dir() / "prometheus" / "rules")
    assert loaded["WeComApiErrorRatioHigh"]["expr"] == bundled["WeComApiErrorRatioHigh"]["expr"]

    app = make_app("storm")
    client = wechatpy_client(mock, timeout=5)
    mock.inject(api="message/send", errcode=-1, probability=0.5)

    def firing() -> list[str]:
        return [
            alert["state"]
            for alert in stack.prometheus.alerts()
            if alert["labels"].get("alertname") == "WeComApiErrorRatioHigh"
            and alert["labels"].get("job") == app.service
        ]

    deadline = time.monotonic() + 60
    # Spread the storm over several metric exports so rate() sees it grow.
    while "firing" not in firing() and time.monotonic() < deadline:
        for _ in range(10):
            with contextlib.suppress(WeChatClientException):  # the injected -1
                client.message.send_text(mock.agent_id, "zhangsan", "storm")
        time.sleep(0.3)
    app.flush()
    assert "firing" in firing()
    alert = next(
        a
        for a in stack.prometheus.alerts()
        if a["labels"].get("alertname") == "WeComApiErrorRatioHigh"
        and a["labels"].get("job") == app.service
    )
    assert alert["labels"]["wecom_api"] == "message/send"
    assert alert["labels"]["severity"] == "warning"
    ratio = stack.prometheus.values(
        f'wecom_api:error_ratio:rate5m{{job="{app.service}",wecom_api="message/send"}}'
    )
    assert 0.2 < next(iter(ratio.values())) < 0.8


def test_http_check_probe_reaches_its_target(stack: Stack) -> None:
    url = stack.probe.base_url
    status = poll(
        lambda: stack.prometheus.values(
            f'httpcheck_status{{http_url="{url}",http_status_class=~"2xx|4xx"}}',
            "http_status_class",
        ),
        lambda found: sum(found.values()) == 1.0,
        timeout=30,
    )
    assert sum(status.values()) == 1.0
    failing = [
        a for a in stack.prometheus.alerts() if a["labels"]["alertname"] == "WeComApiProbeFailing"
    ]
    assert failing == []


def test_collector_self_metrics_are_scraped(stack: Stack) -> None:
    sent = poll(
        lambda: stack.prometheus.query(
            '{__name__=~"otelcol_exporter_sent_spans(_total)?",exporter="otlp_grpc/jaeger"}'
        ),
        bool,
        timeout=30,
    )
    assert sent, "the collector's own metrics are not in Prometheus"
    capacity = stack.prometheus.query("otelcol_exporter_queue_capacity")
    assert capacity


# Grafana variables replaced by values Prometheus accepts.
_GRAFANA_VARIABLES = {"$job": ".*", "$api": ".*", "$__rate_interval": "1m", "$__range": "15m"}


def test_every_dashboard_query_runs_on_the_live_prometheus(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    app = make_app("dashboard")
    client = wechatpy_client(mock, timeout=5)
    mock.inject(api="user/get", errcode=45009, calls=[2])
    for _ in range(3):
        with contextlib.suppress(WeChatClientException):
            client.user.get("lisi")
    app.flush()
    series = f'wecom_client_duration_seconds_count{{job="{app.service}"}}'
    poll(lambda: stack.prometheus.query(series), bool, timeout=30)
    answered = 0
    for path in sorted((bundle_dir() / "grafana" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                expr = target["expr"]
                for variable, value in _GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                result = stack.prometheus.query(expr)  # raises on a PromQL error
                answered += bool(result)
    # Most panels have data after one instrumented app ran (alerts/rate limits may not).
    assert answered >= 6


def test_jaeger_monitor_tab_reads_span_metrics_from_prometheus(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    """Jaeger's SPM API (the Monitor tab) answers from the span metrics in Prometheus."""
    app = make_app("monitor")
    client = wechatpy_client(mock, timeout=5)
    # rate() needs the counter to grow after Prometheus first saw it: one call, wait for the
    # series, then each further call waits until a scrape has seen the counter grow.
    series = f'sum(traces_span_metrics_calls_total{{service_name="{app.service}"}})'

    def calls() -> float:
        found = stack.prometheus.query(series)
        return float(found[0]["value"][1]) if found else 0.0

    client.user.get("lisi")
    app.flush()
    seen = poll(calls, bool, timeout=30)
    for _ in range(3):
        client.user.get("lisi")
        app.flush()
        seen = poll(calls, lambda now, before=seen: now > before, timeout=30)

    def operations() -> set[str]:
        now_ms = int(time.time() * 1000)
        payload = get_json(
            f"{stack.jaeger.base_url}/api/metrics/calls",
            {
                "service": app.service,
                "spanKind": "client",
                "groupByOperation": "true",
                "endTs": str(now_ms),
                "lookback": "300000",
                "step": "5000",
                "ratePer": "60000",
            },
        )
        names = set()
        for metric in (payload or {}).get("metrics", []):
            labels = {label["name"]: label["value"] for label in metric.get("labels", [])}
            points = metric.get("metricPoints", [])
            if any(point.get("gaugeValue", {}).get("doubleValue") for point in points):
                names.add(labels.get("operation", ""))
        return names

    found = poll(operations, lambda names: "wecom user/get" in names, timeout=30)
    assert "wecom user/get" in found
