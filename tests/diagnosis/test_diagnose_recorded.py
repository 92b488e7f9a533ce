"""``diagnose()`` on what the real Prometheus and Jaeger answered, replayed over loopback.

Each recording (``tests/diagnosis/recordings/diagnose/``, made by ``record.py``) is one
incident scenario run through real instrumented clients into the real stack. The source,
the HTTP clients and the engine run unchanged; only the backends are replays, and the clock
is the one the recording was made with.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from opentelemetry.instrumentation.wecom.diagnosis import (
    CAUSES,
    Diagnosis,
    StoredSource,
    diagnose,
)
from tests.diagnosis.recorded import Recording, closed_port_url, names, serve
from tests.diagnosis.replay import replay_server

SCENARIOS = [name for name in names() if name in CAUSES]
#: The most requests one diagnosis may make: 13 to Prometheus; per finding 2 searches and
#: the traces they return (5 each) for at most 8 findings.
MAX_PROMETHEUS_QUERIES = 13
MAX_TRACE_REQUESTS = 8 * 2 * (1 + 5)


def schema() -> dict[str, Any]:
    text = (
        resources.files("opentelemetry.instrumentation.wecom.diagnosis")
        .joinpath("diagnosis.schema.json")
        .read_text(encoding="utf-8")
    )
    document: dict[str, Any] = json.loads(text)
    return document


def replayed(recording: Recording, **jaeger: str) -> tuple[Diagnosis, StoredSource, list[Any]]:
    """The diagnosis of ``recording``; Jaeger at ``url`` if given, nowhere if it was down."""
    with serve(recording) as replay:
        default = closed_port_url() if recording.jaeger_down else replay.url
        source = StoredSource(replay.url, jaeger.get("url", default), lag=recording.lag)
        found = diagnose(
            source,
            service=recording.service,
            start=recording.start,
            end=recording.end,
            clock=lambda: recording.now,
        )
        return found, source, list(replay.requests)


def jaeger_trace_ids(recording: Recording) -> set[str]:
    return {
        item["path"].rsplit("/", 1)[-1]
        for item in recording.exchanges
        if item["path"].startswith("/api/v3/traces/") and item["status"] == 200
    }


def test_there_is_a_recording_for_every_cause_of_the_catalogue() -> None:
    assert set(SCENARIOS) == set(CAUSES) - {"unexplained"}
    assert {"healthy", "two_faults", "unknown_service"} <= set(names())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_injected_cause_is_the_first_finding(scenario: str) -> None:
    recording = Recording.load(scenario)
    found, _, _ = replayed(recording)
    assert found.findings, found.notes
    first = found.findings[0]
    assert first.cause == scenario, [f.cause for f in found.findings]
    assert first.severity in ("critical", "warning")
    assert not found.healthy
    assert first.summary
    assert first.remediation
    assert first.evidence


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_example_traces_are_ids_jaeger_returned_and_match_the_finding(scenario: str) -> None:
    recording = Recording.load(scenario)
    found, _, _ = replayed(recording)
    first = found.findings[0]
    if recording.jaeger_down:
        assert first.trace_ids == ()
        return
    assert first.trace_ids, "no example trace for the first finding"
    assert set(first.trace_ids) <= jaeger_trace_ids(recording)
    shown = {trace.trace_id: trace for trace in found.traces}
    for trace_id in first.trace_ids:
        apis = {span.attributes.get("wecom.api") for span in shown[trace_id].spans}
        assert apis & set(first.apis), (trace_id, apis, first.apis)


@pytest.mark.parametrize("name", names())
def test_the_json_document_follows_the_schema(name: str) -> None:
    found, _, _ = replayed(Recording.load(name))
    document = json.loads(json.dumps(found.to_dict()))
    jsonschema.validate(document, schema(), format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", names())
def test_a_diagnosis_makes_a_bounded_number_of_requests(name: str) -> None:
    _, source, requests = replayed(Recording.load(name))
    prometheus = [r for r in requests if r.path.startswith("/api/v1/")]
    jaeger = [r for r in requests if not r.path.startswith("/api/v1/")]
    assert len(prometheus) == source.prometheus.queries <= MAX_PROMETHEUS_QUERIES
    assert len(jaeger) <= MAX_TRACE_REQUESTS


def test_a_healthy_run_has_no_critical_or_warning_finding() -> None:
    found, _, _ = replayed(Recording.load("healthy"))
    assert found.healthy
    assert [f for f in found.findings if f.severity != "info"] == []
    assert found.calls > 0
    assert found.failed_calls == 0


def test_two_faults_are_both_found_larger_impact_first() -> None:
    found, _, _ = replayed(Recording.load("two_faults"))
    causes = [finding.cause for finding in found.findings]
    assert causes[:2] == ["ip_not_trusted", "permission_denied"], causes
    ip, permission = found.findings[:2]
    assert ip.failed_calls > permission.failed_calls > 0
    assert set(ip.apis) == {"message/send", "user/get"}
    assert permission.apis == ("department/list",)


def test_an_unknown_service_is_said_and_is_healthy() -> None:
    recording = Recording.load("unknown_service")
    found, _, _ = replayed(recording)
    assert found.findings == ()
    assert found.healthy
    assert any("unknown service 'no-such-service'" in note for note in found.notes)
    assert any("rec-healthy" in note for note in found.notes)  # the services that exist


def test_ip_not_trusted_names_the_egress_ip_from_the_errmsg() -> None:
    found, _, _ = replayed(Recording.load("ip_not_trusted"))
    first = found.findings[0]
    assert first.details["egress_ip"] == "127.0.0.1"
    assert "127.0.0.1" in first.remediation
    assert first.errcodes == (60020,)
    assert set(first.apis) == {"department/list", "message/send", "user/get"}


def test_rate_limited_names_the_throttled_api_and_its_peak_rate() -> None:
    first = replayed(Recording.load("rate_limited"))[0].findings[0]
    assert first.details["throttled_api"] == "message/send"
    assert int(first.details["peak_calls_per_minute"]) > 20  # the mock's limit per minute
    assert "message/send" in first.remediation
    assert first.errcodes == (45009,)


def test_invalid_request_names_the_version_that_introduced_it() -> None:
    first = replayed(Recording.load("invalid_request"))[0].findings[0]
    assert first.details["service_version"] == "1.5.0"
    assert "1.5.0" in first.summary
    assert "1.5.0" in first.remediation
    assert any("1.4.0" in line for line in first.evidence)  # the version without the errors
    assert first.errcodes == (40008,)


def test_token_refresh_failing_includes_the_stale_token_calls_it_causes() -> None:
    first = replayed(Recording.load("token_refresh_failing"))[0].findings[0]
    assert first.errcodes[0] == 40001
    assert "gettoken" in first.apis
    assert [f.cause for f in replayed(Recording.load("token_refresh_failing"))[0].findings].count(
        "token_expired"
    ) == 0


def test_token_expired_is_a_stale_cache_while_gettoken_works() -> None:
    found = replayed(Recording.load("token_expired"))[0]
    first = found.findings[0]
    assert set(first.errcodes) <= {42001, 40014}
    assert "gettoken" not in first.apis
    assert "token_refresh_failing" not in [f.cause for f in found.findings]
    assert first.severity == "critical"  # one token fetch for dozens of failures
    assert "a token cache that is stale or not shared" in first.summary


def test_token_overfetch_counts_the_token_calls_of_the_process() -> None:
    first = replayed(Recording.load("token_overfetch"))[0].findings[0]
    assert int(first.details["token_calls"]) >= 10
    assert first.failed_calls == 0


def test_recipients_unreachable_counts_dropped_recipients() -> None:
    found = replayed(Recording.load("recipients_unreachable"))[0]
    first = found.findings[0]
    assert int(first.details["recipients_dropped"]) > 0
    assert found.recipients_dropped == first.details["recipients_dropped"]
    assert 81013 in first.errcodes


def test_network_error_names_the_exception_types() -> None:
    first = replayed(Recording.load("network_error"))[0].findings[0]
    assert first.errcodes == ()
    assert "ConnectionError" in first.summary or "ReadError" in first.summary


def test_latency_degradation_names_the_slow_api_and_its_baseline() -> None:
    first = replayed(Recording.load("latency_degradation"))[0].findings[0]
    assert first.apis == ("user/get",)
    assert float(first.details["window_mean_seconds"]) > 0.5  # the mock adds 0.6 s
    assert float(first.details["baseline_mean_seconds"]) < 0.1
    assert first.failed_calls == 0


def test_telemetry_loss_with_jaeger_down_is_diagnosed_from_metrics_alone() -> None:
    recording = Recording.load("telemetry_loss")
    assert recording.jaeger_down
    found = replayed(recording)[0]
    first = found.findings[0]
    assert "otlp_grpc/jaeger" in first.summary
    assert any("queue" in line for line in first.evidence)
    assert any("could not scrape jaeger" in line for line in first.evidence)
    assert "Jaeger" in first.remediation
    assert found.traces == ()


def test_without_jaeger_the_same_findings_come_from_metrics_alone() -> None:
    recording = Recording.load("ip_not_trusted")
    with replay_server() as nothing:  # a Jaeger that answers no request it is asked
        found = replayed(recording, url=nothing.url)[0]
    assert found.findings[0].cause == "ip_not_trusted"
    assert found.findings[0].trace_ids == ()
    assert any("metrics alone" in note for note in found.notes)
