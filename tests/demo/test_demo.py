"""`wecom-otel demo` as a user runs it: a subprocess, real HTTP, the real SDK.

Three runs: with no collector configured (the summary alone), with a real OTLP/HTTP receiver
on loopback (the telemetry arrives and decodes), and with an endpoint where nothing listens
(the demo still completes, with one warning).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from opentelemetry.instrumentation.wecom import explain
from opentelemetry.instrumentation.wecom.demo.summary import percentile
from tests._support import closed_port
from tests.enable.otlp_receivers import OtlpHttpReceiver

TIMEOUT = 90
# A small, quick run: 60 operations over 3 s still meets every fault of the scenario.
SMALL_RUN = ["--calls", "60", "--duration", "3", "--seed", "7"]
INJECTED = {42001, 45009, 60020}


def run_demo(
    *args: str, endpoint: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``wecom-otel demo`` as a user runs it, in ``cwd`` (where it writes its HTML report; a
    throw-away directory by default), without the caller's OTEL_/WECOM_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WECOM_"))}
    env["NO_COLOR"] = "1"
    if endpoint is not None:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    command = [sys.executable, "-m", "opentelemetry.instrumentation.wecom.cli", "demo", *args]
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=env,
            cwd=cwd or scratch,
            check=False,
        )


def summary_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    return summary_of(run_demo("--json", *SMALL_RUN))


def test_every_api_is_counted(summary: dict[str, Any]) -> None:
    apis = {row["api"]: row for row in summary["apis"]}
    assert {"gettoken", "message/send", "user/get", "user/list", "webhook/send"} <= set(apis)
    assert summary["calls"] == sum(row["calls"] for row in apis.values())
    assert summary["calls"] >= 60  # operations, plus token refreshes and retries
    for row in apis.values():
        assert sum(row["errcodes"].values()) == row["calls"]
        assert row["errors"] == sum(n for code, n in row["errcodes"].items() if code != "0")


def test_injected_faults_show_as_error_rates(summary: dict[str, Any]) -> None:
    apis = {row["api"]: row for row in summary["apis"]}
    seen = {int(code) for row in apis.values() for code in row["errcodes"]}
    assert seen >= INJECTED
    assert apis["webhook/send"]["errcodes"].get("45009", 0) > 0  # the robot flood
    assert apis["message/send"]["errcodes"].get("60020", 0) > 0  # the untrusted-IP window
    assert apis["message/send"]["error_rate"] > 0
    assert apis["message/send"]["partial_failures"] > 0  # recipients who left
    assert summary["partial_failures"] == sum(r["partial_failures"] for r in apis.values())
    assert apis["gettoken"]["calls"] >= 2  # the first token, and the refresh after 42001
    assert 0 < summary["error_rate"] < 1


def test_latency_comes_from_the_histogram(summary: dict[str, Any]) -> None:
    apis = {row["api"]: row for row in summary["apis"]}
    slow = apis["user/list"]
    assert slow["p50_ms"] > 200  # the scenario's slow API
    assert slow["p95_ms"] >= slow["p50_ms"]
    # Relative, not a wall-clock bound: only user/list carries the injected 0.6 s latency.
    assert apis["gettoken"]["p95_ms"] < slow["p50_ms"]


def test_top_errcodes_are_explained_with_trace_ids(summary: dict[str, Any]) -> None:
    top = {row["errcode"]: row for row in summary["top_errcodes"]}
    assert set(top) >= INJECTED
    for code, row in top.items():
        info = explain(code)
        assert row["meaning"] == info.meaning
        assert row["remediation"] == info.remediation
        assert row["retryable"] is info.retryable
        assert row["trace_ids"]
        assert all(re.fullmatch("[0-9a-f]{32}", t) for t in row["trace_ids"])
    assert top[42001]["retryable"] is True
    assert top[60020]["category"] == "ip_whitelist"
    counts = [row["count"] for row in summary["top_errcodes"]]
    assert counts == sorted(counts, reverse=True)
    assert set(summary["failed_trace_ids"]) >= {t for r in top.values() for t in r["trace_ids"]}


def test_the_incident_shows_a_retry_chain_a_refresh_and_silent_discards(
    summary: dict[str, Any],
) -> None:
    chains = summary["chains"]
    retries = {(r["wecom.api"], r["wecom.retry.reason"]): r["count"] for r in chains["retries"]}
    assert any(reason == "42001" for _, reason in retries)  # resent after the token expiry
    refreshes = {
        (r["wecom.token.refresh.reason"], r["wecom.status"]): r["count"]
        for r in chains["token_refreshes"]
    }
    assert refreshes.get(("42001", "ok"), 0) >= 1  # gettoken because of the 42001
    assert refreshes.get(("proactive", "ok"), 0) >= 1  # the first token of each client
    example = chains["retry_chains"][0]
    assert (example["refresh_reason"], example["reason"], example["attempt"]) == (
        "42001",
        "42001",
        1,
    )
    assert re.fullmatch("[0-9a-f]{32}", example["trace_id"])
    # The page storm goes over 30 a minute to one member: WeCom (the mock) discards the
    # excess with errcode 0, and the instrumentation counts exactly what it discarded.
    discards = chains["silent_discards"]
    assert discards["counted"] == discards["mock_discarded"] >= 6
    assert {row["wecom.message.limit"] for row in discards["by_app"]} == {"member_per_minute"}
    person_times = {(r["wecom.recipient.kind"]): r["count"] for r in chains["person_times"]}
    assert person_times["user"] >= 36


def test_no_collector_configured_means_no_export(summary: dict[str, Any]) -> None:
    assert summary["telemetry"] == {"otlp_endpoint": None, "delivered": None}


def test_telemetry_reaches_a_real_otlp_receiver() -> None:
    with OtlpHttpReceiver() as receiver:
        result = run_demo("--json", *SMALL_RUN, endpoint=receiver.endpoint)
        summary = summary_of(result)
    assert summary["telemetry"] == {"otlp_endpoint": receiver.endpoint, "delivered": True}
    assert "is failing" not in result.stderr

    spans = receiver.received.spans()
    wecom_spans = [s for s in spans if s["name"].startswith("wecom ")]
    assert len(wecom_spans) == summary["calls"]
    assert {s["resource"]["service.name"] for s in spans} == {"wecom-otel-demo"}
    errcodes = {s["attributes"].get("wecom.errcode") for s in wecom_spans}
    assert errcodes >= INJECTED
    # The trace ids the summary points at are the ones the collector got.
    assert set(summary["failed_trace_ids"]) <= {s["trace_id"] for s in wecom_spans}
    # A 42001 and its retry share a trace (the step's parent span).
    expired = next(s for s in wecom_spans if s["attributes"].get("wecom.errcode") == 42001)
    same_trace = [s["name"] for s in wecom_spans if s["trace_id"] == expired["trace_id"]]
    assert "wecom gettoken" in same_trace

    points = receiver.received.histogram_points("wecom.client.duration")
    assert _last_cumulative(points) == {row["api"]: row["calls"] for row in summary["apis"]}


def _last_cumulative(points: list[dict[str, Any]]) -> dict[str, int]:
    """Per API, the count in the last export (cumulative temporality: the final totals)."""
    latest: dict[tuple[Any, ...], int] = {}
    for point in points:  # arrival order: later exports overwrite earlier ones
        latest[tuple(sorted(point["attributes"].items()))] = point["count"]
    totals: dict[str, int] = {}
    for key, count in latest.items():
        api = dict(key)["wecom.api"]
        totals[api] = totals.get(api, 0) + count
    return totals


def test_unreachable_collector_one_warning_and_the_summary() -> None:
    result = run_demo(*SMALL_RUN, endpoint=f"http://127.0.0.1:{closed_port()}")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("is failing") == 1, result.stderr
    assert "WeCom API calls" in result.stdout
    assert "Top errcodes" in result.stdout
    assert explain(60020).meaning.split("(")[0].strip() in result.stdout
    assert "could NOT be sent" in result.stdout
    assert "repeated after 42001" in result.stdout
    assert "Silent discards" in result.stdout


def test_text_summary_tells_where_to_look(summary: dict[str, Any]) -> None:
    where = summary["where"]
    assert where["jaeger"]["search"].startswith("http://127.0.0.1:")
    assert "wecom_client_duration_seconds" in where["prometheus"]["calls"]


@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        ([0, 4, 0], 0.5, 0.15),  # all in (0.1, 0.2]: the middle
        ([2, 0, 2], 0.5, 0.1),  # rank 2 ends the first bucket
        ([0, 0, 4], 0.95, 0.485),  # overflow bucket: (0.2, max 0.5]
        ([0, 0, 0], 0.5, 0.0),
    ],
)
def test_percentile_interpolates_within_a_bucket(
    buckets: list[int], q: float, expected: float
) -> None:
    assert percentile((0.1, 0.2), buckets, 0.5, q) == pytest.approx(expected)
