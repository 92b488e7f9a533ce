"""``wecom-otel diagnose --json`` names the injected cause, on the real collector, Jaeger and
Prometheus.

Every scenario of ``tests/diagnosis/scenario_app.py`` runs at once, each in its own process
with its own ``service.name``, on the shared session stack: healthy traffic through real
instrumented wechatpy (requests) and httpx clients, then the fault, injected through the mock's
fault injection. ``telemetry_loss`` breaks the collector's export, so it runs on a stack of its
own (Jaeger stopped) at the same time. Then the command runs as a subprocess per scenario.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from opentelemetry.instrumentation.wecom.diagnosis import (
    CAUSES,
    JaegerClient,
    StoredSource,
    diagnose,
)
from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import LocalStack
from opentelemetry.instrumentation.wecom.testing import MockWeComServer
from tests._support import poll
from tests.collector.binaries import require_binaries
from tests.diagnosis.harness import Run, run_scenario, run_scenarios, wait_for_metrics
from tests.diagnosis.scenario_app import SCENARIOS
from tests.diagnosis.test_diagnose_recorded import schema
from tests.e2e.conftest import COLLECTOR_OVERRIDES, Stack

pytestmark = pytest.mark.e2e

#: How late data reaches the e2e stack's Prometheus (SDK 0.5 s, batch 0.2 s, scrape 1 s).
LAG = "2"
#: Long enough for the exporter's queue to be stuck (15 s) while Jaeger is down.
LOSS_SECONDS = 22.0
SHARED = [name for name in SCENARIOS if name != "telemetry_loss"]


def wecom_otel() -> list[str]:
    script = Path(sys.executable).with_name("wecom-otel")
    found = script if script.exists() else shutil.which("wecom-otel")
    return (
        [str(found)] if found else [sys.executable, "-m", "opentelemetry.instrumentation.wecom.cli"]
    )


def run_diagnose(run: Run, prometheus: str, jaeger: str, *extra: str) -> tuple[int, dict[str, Any]]:
    start, end = run.window
    argv = [
        *wecom_otel(),
        "diagnose",
        "--json",
        "--service",
        run.service,
        "--start",
        f"{start:.3f}",
        "--end",
        f"{end:.3f}",
        "--prometheus",
        prometheus,
        "--jaeger",
        jaeger,
        "--lag",
        LAG,
        *extra,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def settle(run: Run, prometheus: str, jaeger: str) -> None:
    """Wait until Jaeger holds the example traces of the first finding (poll, no sleep)."""

    def ready() -> bool:
        start, end = run.window
        source = StoredSource(prometheus, jaeger, lag=float(LAG))
        found = diagnose(source, service=run.service, start=start, end=end)
        return found.healthy or bool(found.findings and found.findings[0].trace_ids)

    poll(ready, bool, timeout=20, interval=1.0)


def loss_on_own_stack(results: dict[str, Any], tmp: Path) -> None:
    """telemetry_loss: a stack whose Jaeger is stopped, so the collector cannot export."""
    try:
        with MockWeComServer(seed=7) as probe:
            ports = StackPorts.ephemeral()
            overrides = {**COLLECTOR_OVERRIDES, "WECOM_OTEL_HTTP_CHECK_ENDPOINT": probe.base_url}
            local = LocalStack(
                require_binaries(), ports, tmp, collector_overrides=overrides, scrape_interval="1s"
            )
            with local:
                local.stop("jaeger")
                prometheus = f"http://{HOST}:{ports.prometheus}"
                jaeger = f"http://{HOST}:{ports.jaeger_ui}"
                run = run_scenario(
                    "telemetry_loss",
                    "e2e-diag-telemetry_loss",
                    f"{HOST}:{ports.otlp_grpc}",
                    healthy=4.0,
                    fault=LOSS_SECONDS,
                )
                wait_for_metrics(prometheus, [run])
                results["telemetry_loss"] = (run, *run_diagnose(run, prometheus, jaeger))
    except BaseException as error:
        results["telemetry_loss"] = error


@pytest.fixture(scope="module")
def diagnosed(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``{scenario: (run, exit status, --json document)}`` for every scenario."""
    results: dict[str, Any] = {}
    own = threading.Thread(
        target=loss_on_own_stack, args=(results, tmp_path_factory.mktemp("loss-stack"))
    )
    own.start()
    prometheus, jaeger = stack.prometheus.base_url, stack.jaeger.base_url
    stamp = int(time.time()) % 100_000
    runs = run_scenarios(
        [(name, f"e2e-diag-{name}-{stamp}") for name in SHARED], stack.otlp_endpoint
    )
    wait_for_metrics(prometheus, list(runs.values()))

    def settled_diagnosis(run: Run) -> None:
        settle(run, prometheus, jaeger)
        results[run.scenario] = (run, *run_diagnose(run, prometheus, jaeger))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(settled_diagnosis, runs.values()))
    own.join(timeout=300)
    return results


def result(diagnosed: dict[str, Any], scenario: str) -> tuple[Run, int, dict[str, Any]]:
    outcome = diagnosed[scenario]
    if isinstance(outcome, BaseException):
        raise outcome
    run, code, document = outcome
    return run, code, document


@pytest.mark.parametrize("scenario", sorted(set(CAUSES) - {"unexplained"}))
def test_the_injected_cause_is_the_first_finding(diagnosed: dict[str, Any], scenario: str) -> None:
    _, code, document = result(diagnosed, scenario)
    causes = [finding["cause"] for finding in document["findings"]]
    assert causes, document["notes"]
    assert causes[0] == scenario, causes
    assert document["findings"][0]["severity"] in ("critical", "warning")
    assert code == 1
    assert document["healthy"] is False


@pytest.mark.parametrize("scenario", [*SHARED, "telemetry_loss"])
def test_the_json_document_follows_its_schema(diagnosed: dict[str, Any], scenario: str) -> None:
    import jsonschema

    _, _, document = result(diagnosed, scenario)
    jsonschema.validate(document, schema(), format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("scenario", sorted(set(SHARED) - {"healthy"}))
def test_the_example_traces_are_in_jaeger(
    diagnosed: dict[str, Any], scenario: str, stack: Stack
) -> None:
    _, _, document = result(diagnosed, scenario)
    first = document["findings"][0]
    assert first["trace_ids"], first
    jaeger = JaegerClient(stack.jaeger.base_url)
    for trace_id in first["trace_ids"]:
        assert jaeger.trace(trace_id) is not None, trace_id
    shown = {trace["trace_id"] for trace in document["traces"]}
    assert set(first["trace_ids"]) <= shown


def test_a_healthy_run_has_no_critical_or_warning_finding(diagnosed: dict[str, Any]) -> None:
    _, code, document = result(diagnosed, "healthy")
    assert [f for f in document["findings"] if f["severity"] in ("critical", "warning")] == []
    assert document["healthy"] is True
    assert document["calls"] > 0
    assert code == 0


def test_two_faults_are_both_found_larger_impact_first(diagnosed: dict[str, Any]) -> None:
    _, _, document = result(diagnosed, "two_faults")
    findings = document["findings"]
    assert [f["cause"] for f in findings[:2]] == ["ip_not_trusted", "permission_denied"]
    assert findings[0]["failed_calls"] > findings[1]["failed_calls"] > 0


def test_the_findings_carry_what_the_user_needs(diagnosed: dict[str, Any]) -> None:
    def first(scenario: str) -> dict[str, Any]:
        finding: dict[str, Any] = result(diagnosed, scenario)[2]["findings"][0]
        return finding

    assert first("ip_not_trusted")["details"]["egress_ip"] == "127.0.0.1"
    assert first("rate_limited")["details"]["throttled_api"] == "message/send"
    assert first("invalid_request")["details"]["service_version"] == "1.5.0"
    assert first("latency_degradation")["apis"] == ["user/get"]
    assert first("token_refresh_failing")["errcodes"][0] == 40001
    assert int(first("recipients_unreachable")["details"]["recipients_dropped"]) > 0


def test_jaeger_down_gives_a_diagnosis_from_metrics_alone(diagnosed: dict[str, Any]) -> None:
    _, _, document = result(diagnosed, "telemetry_loss")
    first = document["findings"][0]
    assert first["trace_ids"] == []
    assert "otlp_grpc/jaeger" in first["summary"]
    assert document["traces"] == []


def test_an_unknown_service_is_said_and_exits_0(stack: Stack) -> None:
    run = Run("healthy", "e2e-diag-no-such-service", time.time() - 60, time.time(), time.time())
    code, document = run_diagnose(run, stack.prometheus.base_url, stack.jaeger.base_url)
    assert code == 0
    assert document["findings"] == []
    assert any("unknown service" in note for note in document["notes"])
