"""JaegerClient against answers recorded from the real Jaeger of the local stack (v2.13).

The recordings come from ``python -m tests.diagnosis.record_jaeger``; the client makes real HTTP
requests to a loopback server that plays them back.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from opentelemetry.instrumentation.wecom.diagnosis import BackendUnavailable
from opentelemetry.instrumentation.wecom.diagnosis._jaeger import JaegerClient
from tests.diagnosis.replay import RECORDINGS, Exchange, Replay, replay_server

TRACES: dict[str, str] = json.loads((RECORDINGS / "jaeger" / "traces.json").read_text("utf-8"))
SERVICE = "wecom-recorded-app"
START = datetime(2026, 12, 3, 18, 0, tzinfo=timezone.utc)
END = START + timedelta(hours=1)


@pytest.fixture
def jaeger() -> Iterator[Replay]:
    with replay_server() as replay:
        for name, trace_id in TRACES.items():
            replay.route(f"/api/v3/traces/{trace_id}", Exchange.load(f"trace_{name}"))
        yield replay


def _route_unknown_traces(replay: Replay) -> None:
    unknown = Exchange.load("trace_unknown")
    replay.route("/api/v3/traces/" + "0" * 31 + "1", unknown)


def test_trace_reads_spans_parents_kinds_statuses_and_typed_attributes(jaeger: Replay) -> None:
    trace = JaegerClient(jaeger.url).trace(TRACES["token_refresh"])

    assert trace is not None
    assert trace.trace_id == TRACES["token_refresh"]
    names = [span.name for span in trace.spans]
    assert names == [
        "app token_refresh",
        "wecom message/send",
        "wecom gettoken",
        "wecom message/send",
    ]
    root, failed, gettoken, retried = trace.spans
    assert root.parent_span_id is None
    assert {failed.parent_span_id, gettoken.parent_span_id, retried.parent_span_id} == {
        root.span_id
    }
    assert (root.kind, failed.kind) == ("internal", "client")
    assert (failed.status, retried.status) == ("error", "unset")
    assert failed.status_message == "WeCom errcode 42001: access_token expired"
    assert failed.attributes["wecom.errcode"] == 42001
    assert failed.attributes["wecom.error.retryable"] is True
    assert "from ip: 127.0.0.1" in str(failed.attributes["wecom.errmsg"])
    assert failed.resource["service.version"] == "2.4.1"
    assert failed.service == SERVICE
    starts = [span.start_ns for span in trace.spans]
    assert starts == sorted(starts)


def test_trace_keeps_the_exception_event_of_a_network_error(jaeger: Replay) -> None:
    trace = JaegerClient(jaeger.url).trace(TRACES["network_error"])

    assert trace is not None
    call = next(span for span in trace.spans if span.name == "wecom department/list")
    assert call.attributes["error.type"] == "ReadError"
    (event,) = call.events
    assert event.name == "exception"
    assert event.attributes["exception.message"] == "[Errno 104] Connection reset by peer"
    assert event.attributes["exception.escaped"] is True
    assert call.start_ns < event.time_ns


def test_trace_id_is_normalized_before_it_is_asked_for(jaeger: Replay) -> None:
    trace = JaegerClient(jaeger.url + "/").trace("  " + TRACES["healthy"].upper() + " ")

    assert trace is not None
    assert trace.trace_id == TRACES["healthy"]
    assert [r.path for r in jaeger.requests] == [f"/api/v3/traces/{TRACES['healthy']}"]


def test_unknown_trace_is_none(jaeger: Replay) -> None:
    _route_unknown_traces(jaeger)

    assert JaegerClient(jaeger.url).trace("1") is None


def test_malformed_trace_id_is_refused_without_asking(jaeger: Replay) -> None:
    with pytest.raises(ValueError, match="hex digits"):
        JaegerClient(jaeger.url).trace("not-a-trace-id")
    with pytest.raises(ValueError, match="not all zero"):
        JaegerClient(jaeger.url).trace("0" * 32)
    assert jaeger.requests == []


def test_find_traces_searches_by_tag_then_fetches_each_trace(jaeger: Replay) -> None:
    jaeger.route(
        "/api/traces",
        Exchange.load("search_errcode_60020"),
        tags='{"wecom.errcode":"60020"}',
    )

    found = JaegerClient(jaeger.url).find_traces(
        SERVICE, START, END, {"wecom.errcode": "60020"}, limit=5
    )

    assert [trace.trace_id for trace in found] == [TRACES["ip_not_trusted"]]
    call = found[0].spans[1]
    assert call.attributes["wecom.errcode"] == 60020
    search = jaeger.requests[0]
    assert search.path == "/api/traces"
    assert search.params == {
        "service": SERVICE,
        "start": str(int(START.timestamp() * 1_000_000)),
        "end": str(int(END.timestamp() * 1_000_000)),
        "limit": "5",
        "tags": '{"wecom.errcode":"60020"}',
    }


def test_find_traces_returns_the_newest_first_and_at_most_limit(jaeger: Replay) -> None:
    jaeger.route("/api/traces", Exchange.load("search_service"))

    found = JaegerClient(jaeger.url).find_traces(SERVICE, START, END, limit=3)

    # The recorder made them in this order, one after the other.
    assert [trace.trace_id for trace in found] == [
        TRACES["network_error"],
        TRACES["partial_failure"],
        TRACES["ip_not_trusted"],
    ]
    assert "tags" not in jaeger.requests[0].params
    assert len(jaeger.requests) == 1 + 3


def test_find_traces_without_a_match_fetches_nothing(jaeger: Replay) -> None:
    jaeger.route("/api/traces", Exchange.load("search_no_match"))

    assert (
        JaegerClient(jaeger.url).find_traces(SERVICE, START, END, {"wecom.errcode": "45009"}) == []
    )
    assert len(jaeger.requests) == 1


def test_find_traces_falls_back_to_api_v3_and_filters_when_api_traces_is_gone(
    jaeger: Replay,
) -> None:
    # A Jaeger without /api/traces (v2.21+) answers like any unknown path: a plain-text 404
    # (recorded from the real Jaeger's health port). Its api_v3 search is the recorded v2.13
    # answer, which ignored query.attributes: every trace of the service came back.
    jaeger.route("/api/traces", Exchange.load("wrong_backend_jaeger_health"))
    jaeger.route("/api/v3/traces", Exchange.load("search_v3_service"))

    found = JaegerClient(jaeger.url).find_traces(SERVICE, START, END, {"wecom.errcode": "60020"})

    assert [trace.trace_id for trace in found] == [TRACES["ip_not_trusted"]]
    search = jaeger.requests[1]
    assert search.params["query.service_name"] == SERVICE
    assert search.params["query.attributes"] == '{"wecom.errcode":"60020"}'
    assert search.params["query.start_time_min"] == "2026-12-03T18:00:00.000000Z"
    assert search.params["query.start_time_max"] == "2026-12-03T19:00:00.000000Z"


def test_api_v3_search_without_traces_is_empty(jaeger: Replay) -> None:
    jaeger.route("/api/traces", Exchange.load("wrong_backend_jaeger_health"))
    jaeger.route("/api/v3/traces", Exchange.load("search_v3_unknown_service"))

    assert JaegerClient(jaeger.url).find_traces("no-such-service", START, END) == []


def test_tag_values_are_sent_as_strings(jaeger: Replay) -> None:
    jaeger.route("/api/traces", Exchange.load("search_no_match"))

    JaegerClient(jaeger.url).find_traces(
        SERVICE,
        START,
        END,
        {"wecom.message.partial_failure": True, "wecom.errcode": 81013},  # type: ignore[dict-item]
    )

    tags = json.loads(jaeger.requests[0].params["tags"])
    assert tags == {"wecom.message.partial_failure": "true", "wecom.errcode": "81013"}


def test_jaegers_refusal_of_a_search_is_one_line_naming_the_url(jaeger: Replay) -> None:
    jaeger.route("/api/traces", Exchange.load("search_bad_tags"))

    with pytest.raises(BackendUnavailable) as caught:
        JaegerClient(jaeger.url).find_traces(SERVICE, START, END, {"error": "true"})

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"Jaeger at {jaeger.url} is unavailable: /api/traces answered")
    assert "malformed 'tags' parameter" in message


@pytest.mark.parametrize(
    ("recording", "reason"),
    [
        ("wrong_backend_prometheus", "/api/v3/traces/"),
        ("wrong_backend_collector_health", "malformed OTLP JSON"),
    ],
)
def test_a_url_that_is_not_jaeger_is_unavailable(recording: str, reason: str) -> None:
    with replay_server() as other:
        other.route(f"/api/v3/traces/{TRACES['healthy']}", Exchange.load(recording))
        with pytest.raises(BackendUnavailable, match=reason) as caught:
            JaegerClient(other.url).trace(TRACES["healthy"])
    assert caught.value.url == other.url
    assert "wecom-otel stack up" in str(caught.value)


def test_an_html_page_is_not_json(jaeger: Replay) -> None:
    page = Exchange(200, "text/html", b"<!doctype html><title>This is not the Jaeger UI</title>")
    jaeger.route(f"/api/v3/traces/{'a' * 32}", page)

    with pytest.raises(BackendUnavailable, match="not JSON") as caught:
        JaegerClient(jaeger.url).trace("a" * 32)
    assert "\n" not in str(caught.value)


def test_nothing_listening_is_unavailable_with_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    with pytest.raises(BackendUnavailable) as caught:
        JaegerClient(url, timeout=2).trace("1")

    assert str(caught.value).startswith(f"Jaeger at {url} is unavailable: connection refused")
    assert "WECOM_OTEL_JAEGER_URL" in str(caught.value)


def test_a_jaeger_that_never_answers_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # the kernel accepts the connection; nobody ever answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(BackendUnavailable, match=r"no answer within 0\.3 s"):
            JaegerClient(url, timeout=0.3).trace("1")


def test_credentials_in_the_url_authenticate_and_are_never_shown(jaeger: Replay) -> None:
    secret_url = jaeger.url.replace("http://", "http://reader:s3cr%40t@")
    client = JaegerClient(secret_url)

    assert client.trace(TRACES["healthy"]) is not None
    assert jaeger.requests[0].headers["Authorization"] == "Basic cmVhZGVyOnMzY3JAdA=="
    assert client.url == jaeger.url
    jaeger.route("/api/traces", Exchange.load("search_bad_tags"))
    with pytest.raises(BackendUnavailable) as caught:
        client.find_traces(SERVICE, START, END)
    assert "s3cr" not in str(caught.value)
    assert "reader" not in str(caught.value)


def test_a_proxy_in_the_environment_is_not_used_for_loopback(
    jaeger: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")

    assert JaegerClient(jaeger.url).trace(TRACES["healthy"]) is not None


@pytest.mark.parametrize("url", ["127.0.0.1:16686", "ftp://host/", "http://"])
def test_a_url_without_scheme_or_host_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="http://HOST:PORT"):
        JaegerClient(url)
