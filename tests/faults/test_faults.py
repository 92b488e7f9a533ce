"""The pipeline under faults, on the real collector, Jaeger and Prometheus.

Each scenario gets its own stack (its own ports and state directory; the shared E2E stack is
never touched). All of them start together in threads when the first test asks, so the
outages overlap; each test then waits for its scenario and checks what it observed. The
figures are printed (``pytest -s``) and kept in ``collector/README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

import pytest

from tests.collector.binaries import require_binaries
from tests.faults import scenarios

# The scenarios run together; the first test waits for the slowest on a loaded machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "kill": scenarios.collector_killed,
    "jaeger_down": scenarios.jaeger_down,
    "collector_down": scenarios.collector_down,
    "overload": scenarios.overload,
    "restart": scenarios.stack_restarted,
}
WAIT_S = 400


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[dict[str, Any]]]]:
    binaries = require_binaries()
    with ThreadPoolExecutor(max_workers=len(SCENARIOS), thread_name_prefix="fault") as pool:
        futures = {
            name: pool.submit(run, binaries, tmp_path_factory.mktemp(name))
            for name, run in SCENARIOS.items()
        }
        yield futures


def result(runs: dict[str, Future[dict[str, Any]]], name: str) -> dict[str, Any]:
    observed = runs[name].result(timeout=WAIT_S)
    printable = {k: v for k, v in observed.items() if k != "app"}
    app = observed["app"]
    printable["app"] = {
        "calls": app.calls,
        "spans_created": app.created,
        "spans_delivered": len(app.delivered),
        "spans_given_up_by_exporter": app.given_up,
        "spans_dropped_by_queue": app.queue_dropped,
        "exceptions": len(app.exceptions),
        "call_ms_p50_p99_max": [
            round(app.duration_p50_ms, 2),
            round(app.duration_p99_ms, 2),
            round(app.duration_max_ms, 1),
        ],
    }
    print(f"\n{name}: {json.dumps(printable, default=str)}")
    return observed


def assert_app_unaffected(app: scenarios.AppFigures) -> None:
    """No exception reached the app, and no call waited for an export.

    A call that waited for an export would wait for its retries: with the collector down the
    OTLP exporter backs off 1 s, 2 s and 4 s (7 s) before it gives up, and with the collector
    up an export takes its time on every batch. The bounds leave room for a loaded machine
    (one call at ~1 s was seen under load 15 on 2 cores) and still catch either.
    """
    assert app.exceptions == []
    assert app.duration_p99_ms < 500, f"p99 of the calls {app.duration_p99_ms:.0f} ms"
    assert app.duration_max_ms < 5000, f"a call took {app.duration_max_ms:.0f} ms"


def test_collector_killed_mid_stream_loses_no_accepted_error_span(
    runs: dict[str, Future[dict[str, Any]]],
) -> None:
    observed = result(runs, "kill")
    app = observed["app"]
    assert app.calls == 10_000
    assert_app_unaffected(app)
    # Every error span the collector acknowledged before or after the kill is in Jaeger.
    assert observed["delivered_error_spans"] > 3_000
    assert observed["missing_error_spans"] == 0
    assert observed["accepted_before_kill"] > 0
    assert observed["accepted_after_restart"] > 0


def test_collector_down_30s_the_app_keeps_running_and_what_was_delivered_is_stored(
    runs: dict[str, Future[dict[str, Any]]],
) -> None:
    observed = result(runs, "collector_down")
    app = observed["app"]
    assert_app_unaffected(app)
    assert observed["outage_s"] >= 30
    # The exporter gave up on batches during the outage (and said so once, at WARNING) ...
    assert observed["abandoned_batches"] >= 1
    assert app.given_up > 0
    # ... and everything it delivered, before and after, was stored.
    assert observed["missing_delivered"] == 0
    assert len(app.delivered) + app.given_up + app.queue_dropped == app.created


def test_stack_down_and_up_keeps_traces_and_metrics(
    runs: dict[str, Future[dict[str, Any]]],
) -> None:
    observed = result(runs, "restart")
    assert observed["spans_before"] == len(observed["app"].delivered)
    assert observed["lost"] == 0
    assert observed["spans_after"] == observed["spans_before"]
    assert observed["metric_after"] == observed["metric_before"]


def test_jaeger_down_60s_spans_wait_in_the_queue_and_its_alert_fires(
    runs: dict[str, Future[dict[str, Any]]],
) -> None:
    observed = result(runs, "jaeger_down")
    assert_app_unaffected(observed["app"])
    assert observed["max_queue_items"] > 0, "the queue's fill level never reached Prometheus"
    assert observed["alert_fired_after_s"] is not None, "WeComCollectorExportBacklog never fired"
    assert observed["missing_delivered"] == 0
    assert observed["queue_after"] == 0


def test_overload_is_refused_without_crash_growth_or_harm_to_the_app(
    runs: dict[str, Future[dict[str, Any]]],
) -> None:
    observed = result(runs, "overload")
    assert_app_unaffected(observed["app"])
    assert observed["flood"]["outcomes"].get("OK", 0) > 0
    assert observed["refused_spans"] > 0, "memory_limiter never refused"
    assert observed["alive"], "the collector died"
    # Bounded: the heap limit plus the Go runtime and the binary's own footprint.
    assert observed["max_rss_mib"] < observed["limit_mib"] + 2 * observed["idle_rss_mib"] + 150
    assert observed["missing_delivered_errors"] == 0
