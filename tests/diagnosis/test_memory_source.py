"""The in-memory source: a diagnosis from the spans one process kept, no backend at all.

Real instrumented clients (wechatpy over requests, httpx) call the mock with its fault
injection; a :class:`SpanKeeper` on the real SDK keeps the spans.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from opentelemetry.instrumentation.wecom import WeComInstrumentor, wecom_api
from opentelemetry.instrumentation.wecom.diagnosis import (
    Diagnosis,
    MemorySource,
    SpanKeeper,
    TraceView,
    diagnose,
    render_html,
    render_text,
)
from opentelemetry.instrumentation.wecom.diagnosis._source import TraceQuery
from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client

SERVICE = "memory-app"


@dataclass
class App:
    mock: MockWeComServer
    keeper: SpanKeeper
    reader: InMemoryMetricReader
    started: float

    def diagnosis(self, **options: object) -> Diagnosis:
        end = time.time() + 1
        source = MemorySource(self.keeper.spans(), self.reader.get_metrics_data())
        return diagnose(
            source, service=SERVICE, start=self.started - 1, end=end, clock=lambda: end, **options
        )


def _app(mock: MockWeComServer, max_spans: int = 10_000) -> Iterator[App]:
    resource = Resource.create({"service.name": SERVICE, "service.version": "2.0.1"})
    keeper = SpanKeeper(max_spans)
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(keeper)
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    WeComInstrumentor().instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, hosts=[mock.host]
    )
    try:
        yield App(mock, keeper, reader, time.time())
    finally:
        WeComInstrumentor().uninstrument()


@pytest.fixture
def app() -> Iterator[App]:
    with MockWeComServer(seed=5) as mock:
        yield from _app(mock)


def test_an_untrusted_ip_is_found_with_the_egress_ip_and_its_traces(app: App) -> None:
    client = wechatpy_client(app.mock, timeout=5)
    for _ in range(5):
        client.user.get("lisi")
    app.mock.inject(api="*", errcode=60020)
    for _ in range(6):
        with pytest.raises(Exception, match="60020"):
            client.user.get("lisi")
    found = app.diagnosis()
    first = found.findings[0]
    assert first.cause == "ip_not_trusted"
    assert first.failed_calls == 6
    assert first.details["egress_ip"] == "127.0.0.1"
    assert first.trace_ids
    kept = {span.context.trace_id for span in app.keeper.spans() if span.context}
    assert {int(t, 16) for t in first.trace_ids} <= kept
    assert {trace.trace_id for trace in found.traces} >= set(first.trace_ids)
    assert found.calls == 12  # 1 gettoken + 11 user/get
    assert found.sources == {"metrics": "in-memory spans", "traces": "in-memory spans"}


def test_dropped_recipients_come_from_the_spans(app: App) -> None:
    with httpx.Client(base_url=app.mock.api_base_url) as http:
        token = app.mock.access_token()
        for _ in range(3):
            http.post(
                "message/send",
                params={"access_token": token},
                json={
                    "touser": "zhangsan|ghost1|ghost2",
                    "msgtype": "text",
                    "agentid": app.mock.agent_id,
                    "text": {"content": "hi"},
                },
            )
    found = app.diagnosis()
    assert found.failed_calls == 0
    assert found.recipients_dropped == 6
    assert found.findings[0].cause == "recipients_unreachable"
    assert found.findings[0].details["recipients_dropped"] == 6


def test_a_decorated_call_around_an_http_call_counts_once(app: App) -> None:
    @wecom_api("user/get")
    def get_user(http: httpx.Client, token: str) -> httpx.Response:
        return http.get("user/get", params={"access_token": token, "userid": "ghost"})

    with httpx.Client(base_url=app.mock.api_base_url) as http:
        for _ in range(4):
            get_user(http, app.mock.access_token())
    found = app.diagnosis()
    assert found.calls == 4
    assert found.failed_calls == 4
    assert found.errcodes[0].errcode == 60111
    assert found.errcodes[0].count == 4


def test_memory_is_bounded_and_the_diagnosis_says_what_it_misses() -> None:
    with MockWeComServer(seed=5) as mock:
        for app in _app(mock, max_spans=3):
            with httpx.Client(base_url=mock.api_base_url) as http:
                for _ in range(7):
                    http.get("department/list", params={"access_token": mock.access_token()})
            assert len(app.keeper.spans()) == 3
            assert app.keeper.dropped == 4
            found = app.diagnosis()
            assert found.calls == 3
            assert any("4 calls counted by the metrics have no span" in n for n in found.notes)


def test_a_healthy_process_is_healthy(app: App) -> None:
    client = wechatpy_client(app.mock, timeout=5)
    for _ in range(5):
        client.user.get("lisi")
        client.message.send_text(app.mock.agent_id, "zhangsan", "ok")
    found = app.diagnosis()
    assert found.healthy
    assert found.findings == ()
    assert found.calls == 11


def test_deliveries_wecom_discards_silently_are_a_rate_limit(app: App) -> None:
    with httpx.Client(base_url=app.mock.api_base_url) as http:
        token = app.mock.access_token()
        for index in range(35):  # WeCom delivers 30 a minute from one app to one member
            body = http.post(
                "message/send",
                params={"access_token": token},
                json={
                    "touser": "lisi",
                    "msgtype": "text",
                    "agentid": app.mock.agent_id,
                    "text": {"content": f"alert {index}"},
                },
            ).json()
            assert body["errcode"] == 0
    found = app.diagnosis()
    first = found.findings[0]
    assert found.failed_calls == 0
    assert first.cause == "rate_limited"
    assert first.severity == "warning"
    assert first.details["discarded_deliveries"] == 5
    assert "30 messages a minute" in first.remediation


def test_tokens_wecom_ends_early_while_the_client_renews_them_are_a_warning(app: App) -> None:
    client = wechatpy_client(app.mock, timeout=5)  # refreshes on 42001 and repeats the call
    for _ in range(3):
        client.user.get("lisi")
    for _ in range(3):
        app.mock.expire_tokens()
        client.user.get("lisi")
        client.user.get("lisi")
    found = app.diagnosis()
    first = found.findings[0]
    assert [f.cause for f in found.findings] == ["token_expired"]
    assert first.failed_calls == 3
    assert first.severity == "warning"  # 3 of 12 calls failed: critical for a stale cache
    assert "the app fetched a new one each time" in first.summary
    assert first.remediation.startswith("Nothing is broken if each of these calls was repeated")
    assert any("at least once per failure" in line for line in first.evidence)


def test_an_empty_window_says_so_and_is_healthy(app: App) -> None:
    with httpx.Client(base_url=app.mock.api_base_url) as http:
        http.get("department/list", params={"access_token": app.mock.access_token()})
    earlier = app.started - 3600
    source = MemorySource(app.keeper.spans())
    found = diagnose(
        source, service=SERVICE, start=earlier, end=earlier + 600, clock=lambda: app.started
    )
    assert found.calls == 0
    assert found.findings == ()
    assert found.healthy
    assert any(note.startswith("no WeCom calls from memory-app") for note in found.notes)


def test_no_secret_reaches_the_report_even_from_a_foreign_span(app: App) -> None:
    secret = "Zm9vYmFyYmF6cXV4c2VjcmV0"
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(app.keeper)
    tracer = provider.get_tracer("some-other-instrumentation")
    for _ in range(3):
        name = f"GET https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token={secret}"
        with tracer.start_as_current_span(name) as span:
            span.set_attributes(
                {
                    "wecom.api": "user/get",
                    "wecom.status": "business_error",
                    "wecom.errcode": 60020,
                    "error.type": "60020",
                    "wecom.errmsg": f"not allow to access from your ip, from ip: 1.2.3.4 "
                    f"access_token={secret}",
                    "url.full": f"https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token={secret}",
                }
            )
    found = app.diagnosis()
    assert found.findings[0].cause == "ip_not_trusted"
    assert found.findings[0].trace_ids
    document = json.dumps(found.to_dict())
    assert secret not in document
    assert "access_token=REDACTED" in document
    assert secret not in render_text(found)
    assert secret not in render_html(found)


class _LaggingSource:
    """The in-memory source as a backend that shows data ``lag`` seconds late would be searched.

    Only ``lag()`` differs; every trace search the engine makes is kept for the test to read.
    """

    def __init__(self, inner: MemorySource, lag: float) -> None:
        self._inner = inner
        self._lag = lag
        self.searches: list[TraceQuery] = []

    def lag(self) -> float:
        return self._lag

    def traces(self, query: TraceQuery) -> Sequence[TraceView]:
        self.searches.append(query)
        return self._inner.traces(query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_trace_searches_start_the_data_lag_before_the_first_anomalous_step(app: App) -> None:
    client = wechatpy_client(app.mock, timeout=5)
    client.user.get("lisi")
    app.mock.inject(api="*", errcode=60020)
    first_failure = time.time()
    for _ in range(6):
        with pytest.raises(Exception, match="60020"):
            client.user.get("lisi")
    end = time.time() + 1
    lag = 20.0
    source = _LaggingSource(MemorySource(app.keeper.spans()), lag)
    found = diagnose(
        source,  # type: ignore[arg-type]
        service=SERVICE,
        start=app.started - 600,
        end=end,
        clock=lambda: end + lag,
    )
    assert found.findings[0].cause == "ip_not_trusted"
    assert source.searches, "the engine searched no example traces"
    assert all(query.start <= first_failure - lag for query in source.searches)
    assert found.findings[0].trace_ids
