"""enable() in a real child process, exporting to real OTLP receivers on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._support import closed_port

API_ERRCODES = {"wecom gettoken": 0, "wecom message/send": 0, "wecom user/get": 40014}
SDK_HINT = "pip install 'opentelemetry-instrumentation-wecom[sdk]'"


def _assert_no_secret(text: str, wecom: Any, report: dict[str, Any]) -> None:
    for secret in (wecom.corp_secret, report["token"], "canary-bad-token-5f1d"):
        assert secret not in text


def _json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON documents the console exporters print one after another."""
    decoder, objects, position = json.JSONDecoder(), [], 0
    while text[position:].strip():
        position += len(text[position:]) - len(text[position:].lstrip())
        obj, position = decoder.raw_decode(text, position)
        objects.append(obj)
    return objects


def _wecom_spans(receiver: Any) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in receiver.received.spans() if s["name"].startswith("wecom ")}


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
@pytest.mark.parametrize("via", ["environment", "arguments"])
def test_traces_and_metrics_reach_the_collector(
    run_child: Any, wecom: Any, receivers: dict[str, Any], protocol: str, via: str
) -> None:
    receiver = receivers[protocol]
    other = receivers["grpc" if protocol == "http/protobuf" else "http/protobuf"]
    env = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test,service.name=overridden"}
    options: dict[str, Any] = {"service_name": "enable-test"}
    if via == "environment":
        env.update(
            OTEL_EXPORTER_OTLP_PROTOCOL=protocol, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint
        )
    else:
        options.update(protocol=protocol, endpoint=receiver.endpoint)

    child = run_child({"enable": options}, env)

    assert child.returncode == 0, child.stderr
    assert child.stderr == ""
    assert child.report["errcodes"] == [0, 0, 40014]
    spans = _wecom_spans(receiver)
    assert {name: s["attributes"]["wecom.errcode"] for name, s in spans.items()} == API_ERRCODES
    assert spans["wecom user/get"]["attributes"]["error.type"] == "40014"
    for span in spans.values():
        assert span["resource"]["service.name"] == "enable-test"
        assert span["resource"]["deployment.environment"] == "test"
    points = receiver.received.histogram_points("wecom.client.duration")
    assert sum(p["count"] for p in points) == 3
    assert {p["attributes"]["wecom.api"]: p["attributes"]["wecom.errcode"] for p in points} == {
        "gettoken": 0,
        "message/send": 0,
        "user/get": 40014,
    }
    assert all(p["unit"] == "s" and p["resource"]["service.name"] == "enable-test" for p in points)
    assert other.received.spans() == []
    _assert_no_secret(
        str(receiver.received.traces + receiver.received.metrics), wecom, child.report
    )


def test_service_name_from_environment(run_child: Any, http_receiver: Any) -> None:
    env = {"OTEL_SERVICE_NAME": "from-env", "OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint}
    child = run_child({}, env)
    assert child.returncode == 0, child.stderr
    spans = _wecom_spans(http_receiver)
    assert {s["resource"]["service.name"] for s in spans.values()} == {"from-env"}


def test_console_exporters(run_child: Any, http_receiver: Any) -> None:
    env = {
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "console",
        "OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint,
    }
    child = run_child({"enable": {"service_name": "console-test"}}, env)

    assert child.returncode == 0, child.stderr
    objects = _json_objects(child.stdout)
    spans = {o["name"]: o for o in objects if "context" in o}
    assert {name: s["attributes"]["wecom.errcode"] for name, s in spans.items()} == API_ERRCODES
    metric_names = {
        metric["name"]
        for o in objects
        if "resource_metrics" in o
        for rm in o["resource_metrics"]
        for sm in rm["scope_metrics"]
        for metric in sm["metrics"]
    }
    assert "wecom.client.duration" in metric_names
    assert http_receiver.received.traces == []
    assert http_receiver.received.metrics == []


def test_none_exports_nothing(run_child: Any, http_receiver: Any) -> None:
    env = {
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint,
    }
    child = run_child({"enable": {"call_log": True}}, env)

    assert child.returncode == 0, child.stderr
    assert (child.stdout, child.stderr) == ("", "")
    assert http_receiver.received.traces == []
    assert http_receiver.received.metrics == []
    # The SDK providers are still set, so trace context (and the call log's ids) work.
    assert child.report["built_tracer_provider"]
    trace_ids = {r["trace_id"] for r in child.report["call_log"] if "trace_id" in r}
    assert len(trace_ids) == 3
    assert "0" * 32 not in trace_ids


def test_existing_global_providers_are_kept(run_child: Any, http_receiver: Any) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint}
    child = run_child({"preset_providers": True}, env)

    assert child.returncode == 0, child.stderr
    assert not child.report["built_tracer_provider"]
    assert not child.report["built_meter_provider"]
    assert set(child.report["memory_spans"]) == set(API_ERRCODES)
    assert http_receiver.received.traces == []


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_unreachable_collector_one_warning_prompt_exit(
    run_child: Any, wecom: Any, protocol: str
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        # Export often while the app runs, so failed batches and their retries happen meanwhile.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
    }
    child = run_child({"enable": {"service_name": "offline"}, "duration_s": 2.5}, env)

    assert child.returncode == 0, child.stderr
    assert child.report["errcodes"] == [0, 0, 40014]
    lines = [line for line in child.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, child.stderr
    assert endpoint in lines[0]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in lines[0]
    # Prompt exit is a property of time: without the abort, the exit waits for the OTLP
    # exporter's retries, 10 s per attempt (its timeout) and more. The bound sits below one
    # attempt, far from the ~0.1 s an aborted exit takes, so machine load cannot flip it.
    assert child.exit_duration_s < 8.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "bogus"},
            "OTEL_EXPORTER_OTLP_PROTOCOL='bogus' is not a supported OTLP protocol",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"},
            "OTEL_EXPORTER_OTLP_ENDPOINT='localhost:4318' is not a valid OTLP endpoint",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:99999"},
            "OTEL_EXPORTER_OTLP_ENDPOINT='http://collector:99999' is not a valid OTLP endpoint",
        ),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin': unsupported exporter"),
    ],
)
def test_malformed_configuration_is_a_clear_error(
    run_child: Any, env: dict[str, str], message: str
) -> None:
    child = run_child({}, env)
    assert child.returncode != 0
    assert f"ValueError: {message}" in child.stderr


def test_already_instrumented_keeps_the_instrumentation(run_child: Any, http_receiver: Any) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint}
    child = run_child({"instrument_first": True, "enable_twice": True}, env)

    assert child.returncode == 0, child.stderr
    assert child.report["same_setup"] is True
    (warning,) = child.stderr.splitlines()
    assert "already instrumented" in warning
    assert "does not apply hosts" in warning
    # The instrumentor recorded into the global providers, which enable() then set.
    assert set(_wecom_spans(http_receiver)) == set(API_ERRCODES)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"max_apis": -1}, "max_apis must be a non-negative integer, got -1"),
        ({"retry_window": -1}, "retry_window must be a non-negative number of seconds, got -1"),
    ],
)
def test_malformed_option_is_a_clear_error(
    run_child: Any, option: dict[str, Any], message: str
) -> None:
    child = run_child({"enable": option})
    assert child.returncode != 0
    assert f"ValueError: {message}" in child.stderr


def test_without_the_sdk_extra(run_child: Any) -> None:
    child = run_child({"block_sdk": True})
    assert child.returncode == 0, child.stderr
    assert SDK_HINT in child.report["import_error"]


def test_quickstart_snippet_runs_as_documented(tmp_path: Any) -> None:
    """The first snippet of docs/quickstart.md, run as a reader would run it."""
    quickstart = Path(__file__).parents[2] / "docs" / "quickstart.md"
    text = quickstart.read_text(encoding="utf-8")
    command = re.search(r"```bash\n(\S+=\S+ \S+=\S+) python - <<'EOF'\n(.*?)\nEOF\n```", text, re.S)
    assert command is not None, "the try-it snippet changed shape; update this test"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(pair.split("=") for pair in command.group(1).split())
    completed = subprocess.run(
        [sys.executable, "-c", command.group(2)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert '"name": "wecom gettoken"' in completed.stdout
    assert '"wecom.errcode": 40001' in completed.stdout
    assert "corpsecret=REDACTED" in completed.stdout
