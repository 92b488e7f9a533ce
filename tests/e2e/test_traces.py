"""Traces through the real collector into real Jaeger: errcode search, scrubbing, sampling."""

from __future__ import annotations

import contextlib
import time
from typing import Callable

import pytest
from opentelemetry.trace import Status, StatusCode
from wechatpy.exceptions import WeChatClientException

from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client
from tests._support import poll
from tests.e2e.backends import attributes
from tests.e2e.conftest import HEALTHY_PERCENT, App, Stack

pytestmark = pytest.mark.e2e

CANARY = "CANARY7f3a9c2e51"
# Traces the collector's tail sampler has decided on, kept or not (its own counter).
DECIDED = "otelcol_processor_tail_sampling_global_count_traces_sampled"


def decided(stack: Stack, **labels: str) -> float:
    return stack.collector_metrics(**labels).get(DECIDED, 0.0)


def test_42001_trace_found_by_errcode_with_refresh_and_retry(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    app = make_app("token")
    client = wechatpy_client(mock, timeout=5)
    client.user.get("lisi")  # fetches a token outside the traced flow
    mock.expire_tokens()
    with app.tracer.start_as_current_span("notify on-call"):
        client.message.send_text(mock.agent_id, "zhangsan", "disk full")
    app.flush()

    # /api/v3/traces: the attribute filter is applied by Jaeger >= v2.19 and checked here too.
    def errcode_traces() -> set[str]:
        spans = stack.jaeger.spans(app.service)
        return {s["traceId"] for s in spans if attributes(s).get("wecom.errcode") == 42001}

    found = poll(errcode_traces, bool, timeout=30)
    assert len(found) == 1, "the 42001 call was not found in Jaeger"
    (trace_id,) = found
    # Jaeger itself filters by attribute (matching the int attribute by its text) in API v3
    # over gRPC, and in the /api/traces search that Jaeger <= v2.20 still has.
    assert stack.jaeger.grpc_find_traces(app.service, {"wecom.errcode": "42001"}) == {trace_id}
    assert stack.jaeger.grpc_find_traces(app.service, {"wecom.errcode": "40014"}) == set()
    search = stack.jaeger.v1_search(app.service, {"wecom.errcode": "42001"})
    assert {t["traceID"] for t in search["data"]} == {trace_id}

    # The error span comes first (the collector's error fast path); the rest of the trace follows
    # once tail sampling decides.
    spans = poll(
        lambda: stack.jaeger.traces(app.service).get(trace_id, []),
        lambda found: len(found) >= 4,
        timeout=30,
    )
    calls = [
        (s["name"], attributes(s).get("wecom.errcode"))
        for s in sorted(spans, key=lambda s: int(s["startTimeUnixNano"]))
    ]
    assert calls == [
        ("notify on-call", None),
        ("wecom message/send", 42001),
        ("wecom gettoken", 0),
        ("wecom message/send", 0),
    ]
    root = next(s for s in spans if s["name"] == "notify on-call")
    children = [s for s in spans if s is not root]
    assert all(s.get("parentSpanId") == root["spanId"] for s in children)


def test_canary_secret_is_nowhere_in_jaeger_or_prometheus(
    stack: Stack, make_app: Callable[..., App]
) -> None:
    """A stock HTTP instrumentation would leak the query string; the collector scrubs it.

    One trace is an error (the error fast path to Jaeger), one is healthy and slow (kept by tail
    sampling, through the sampled path); both also feed the span metrics.
    """
    app = make_app("canary", **{"deployment.note": f"rotated corpsecret={CANARY}"})
    url = f"https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token={CANARY}&debug=1"
    with app.tracer.start_as_current_span(f"GET /cgi-bin/gettoken?corpsecret={CANARY}") as span:
        span.set_attribute("url.full", url)
        span.set_attribute("http.response.body", f'{{"access_token": "{CANARY}"}}')
        span.add_event(f"retry key={CANARY}", {"url.full": url, "code": f"?code={CANARY}"})
        # The shapes apps log secrets in: a dict's repr, escaped JSON, logfmt, a log line.
        span.set_attribute("exception.message", f"params {{'corpsecret': '{CANARY}'}}")
        span.set_attribute("http.request.body", f'b\'{{\\"suite_secret\\": \\"{CANARY}\\"}}\'')
        span.add_event("log", {"logfmt": f'access_token="{CANARY}"', "line": f"ticket: {CANARY}"})
        span.set_attribute("wecom.errmsg", f"access_token is invalid or not latest: {CANARY}")
        span.set_status(Status(StatusCode.ERROR, f"failed for {url}"))
    start = time.time_ns()
    slow = app.tracer.start_span(
        f"POST /cgi-bin/message/send?access_token={CANARY}", start_time=start
    )
    slow.set_attribute("url.full", url)
    slow.end(start + 3_500_000_000)  # over the 3 s the latency policy keeps
    requests = app.meter_provider.get_meter("stock-http").create_counter("http.client.requests")
    requests.add(1, {"url.full": url})
    app.flush()

    spans = poll(lambda: stack.jaeger.spans(app.service), lambda found: len(found) == 2, timeout=30)
    assert len(spans) == 2, "the canary traces never reached Jaeger"
    assert {s["name"] for s in spans} == {
        "GET /cgi-bin/gettoken?corpsecret=REDACTED",
        "POST /cgi-bin/message/send?access_token=REDACTED",
    }
    series = poll(
        lambda: stack.prometheus.query(f'{{job="{app.service}"}}'),
        lambda found: any(s["metric"]["__name__"] == "http_client_requests_total" for s in found),
        timeout=30,
    )
    assert series, "the canary metric never reached Prometheus"
    span_metrics = poll(
        lambda: stack.prometheus.query(
            f'traces_span_metrics_calls_total{{service_name="{app.service}"}}'
        ),
        lambda found: len(found) == 2,
        timeout=30,
    )
    assert len(span_metrics) == 2, "the canary span metrics never reached Prometheus"

    jaeger_dump = repr(stack.jaeger.v3_traces(app.service, raw=True))
    operations = repr(stack.jaeger.operations(app.service))
    prometheus_dump = repr(series) + repr(stack.prometheus.query('{__name__=~".+"}'))
    for where, dump in (("Jaeger", jaeger_dump + operations), ("Prometheus", prometheus_dump)):
        assert CANARY not in dump, f"the canary secret leaked into {where}"
    # The scrubbing keeps the key visible.
    assert "access_token=REDACTED" in jaeger_dump
    assert "corpsecret=REDACTED" in jaeger_dump
    for kept in (
        "'corpsecret': 'REDACTED'",
        'suite_secret\\\\": \\\\"REDACTED',
        "ticket: REDACTED",
        "not latest: REDACTED",
    ):
        assert kept in jaeger_dump, kept
    assert "key=REDACTED" in jaeger_dump
    assert "access_token=REDACTED" in prometheus_dump
    assert "corpsecret=REDACTED" in prometheus_dump  # target_info carries the resource


def test_tail_sampling_keeps_every_error_and_thins_healthy_traces(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    app = make_app("sampling")
    client = wechatpy_client(mock, timeout=5)
    errors, healthy = 20, 200
    decided_before, kept_before = decided(stack), decided(stack, sampled="true")
    for _ in range(errors):
        with app.tracer.start_as_current_span("lookup missing user"):  # noqa: SIM117 - py3.9
            with contextlib.suppress(WeChatClientException):
                client.user.get("ghost")  # 60111: HTTP 200, errcode != 0
    for _ in range(healthy):
        with app.tracer.start_as_current_span("lookup user"):
            client.user.get("lisi")
    app.flush()

    def roots() -> dict[str, int]:
        counts: dict[str, int] = {}
        for span in stack.jaeger.spans(app.service):
            if not span.get("parentSpanId"):
                counts[span["name"]] = counts.get(span["name"], 0) + 1
        return counts

    # Once the sampler has decided on every trace, Jaeger gets the ones it kept.
    poll(lambda: decided(stack), lambda n: n >= decided_before + errors + healthy, timeout=40)
    kept_by_collector = decided(stack, sampled="true") - kept_before
    counts = poll(roots, lambda c: sum(c.values()) >= kept_by_collector, timeout=30)
    assert counts.get("lookup missing user") == errors
    kept = counts.get("lookup user", 0)
    # Binomial(200, 0.25): mean 50, sd ~6; these bounds fail with probability < 1e-6.
    expected = healthy * HEALTHY_PERCENT / 100
    assert expected * 0.4 <= kept <= expected * 1.6, f"kept {kept} of {healthy} healthy traces"


def test_jaeger_restart_loses_no_span(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    """Spans exported while Jaeger is down wait in the persistent queue and arrive later.

    Jaeger keeps traces in memory, so the check is per phase: what was sent before the stop
    arrived before it, and everything sent during the outage arrives after the restart.
    """
    app = make_app("restart")

    def send(phase: str, count: int) -> None:
        for index in range(count):
            with app.tracer.start_as_current_span(f"{phase} job") as root:
                root.set_attribute("job.index", index)
                with app.tracer.start_as_current_span(f"{phase} step") as step:
                    step.set_status(Status(StatusCode.ERROR, "kept by tail sampling"))
        app.flush()

    def span_count(phase: str) -> int:
        return sum(1 for s in stack.jaeger.spans(app.service) if s["name"].startswith(phase))

    send("before", 10)
    assert poll(lambda: span_count("before"), lambda n: n >= 20, timeout=30) == 20

    stack.local.stop("jaeger")
    try:
        decided_before = decided(stack)
        send("during", 25)
        # Past the sampling decision: the sampler hands the traces to the Jaeger exporter,
        # which cannot deliver them until Jaeger is back.
        poll(lambda: decided(stack), lambda n: n >= decided_before + 25, timeout=30)
    finally:
        stack.local.start("jaeger")
    assert poll(lambda: span_count("during"), lambda n: n >= 50, timeout=60) == 50


def test_tail_sampling_keeps_partial_failures_and_slow_traces(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    """Healthy-looking traces that the policies must keep: errcode 0 but some recipients
    dropped (``wecom.message.partial_failure``), and traces over 3 s (the bundled threshold)."""
    app = make_app("keep")
    client = wechatpy_client(mock, timeout=5)
    partial, slow = 12, 12
    for _ in range(partial):
        with app.tracer.start_as_current_span("broadcast"):
            result = client.message.send_text(mock.agent_id, ["zhangsan", "Nobody"], "hi")
            assert result["errcode"] == 0
    for _ in range(slow):
        start = time.time_ns()
        # Timestamps 3.5 s apart: the latency policy looks at the trace's span timestamps.
        app.tracer.start_span("nightly export", start_time=start).end(start + 3_500_000_000)
    app.flush()

    def roots() -> dict[str, int]:
        counts: dict[str, int] = {}
        for span in stack.jaeger.spans(app.service):
            if not span.get("parentSpanId"):
                counts[span["name"]] = counts.get(span["name"], 0) + 1
        return counts

    expected = {"broadcast": partial, "nightly export": slow}
    assert poll(roots, lambda c: c == expected, timeout=40) == expected
    flagged = [
        s
        for s in stack.jaeger.spans(app.service)
        if attributes(s).get("wecom.message.partial_failure") is True
    ]
    assert len(flagged) == partial
