"""The opt-in call log: one record per WeCom call, joined to its exported span, with no secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

CALL_LOGGER = "opentelemetry.instrumentation.wecom"


def _call_records(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in report["call_log"] if r["name"] == CALL_LOGGER and "wecom.api" in r]


@pytest.mark.parametrize("switch", ["argument", "environment"])
def test_one_record_per_call_joined_to_its_span(
    run_child: Any, wecom: Any, http_receiver: Any, switch: str
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint}
    options: dict[str, Any] = {}
    if switch == "argument":
        options["call_log"] = True
    else:
        env["OTEL_PYTHON_WECOM_CALL_LOG"] = "true"

    child = run_child({"enable": options}, env)

    assert child.returncode == 0, child.stderr
    records = _call_records(child.report)
    assert [r["wecom.api"] for r in records] == ["gettoken", "message/send", "user/get"]
    spans = {s["span_id"]: s for s in http_receiver.received.spans()}
    for record in records:
        assert record["levelname"] == "INFO"
        span = spans[record["span_id"]]
        assert span["trace_id"] == record["trace_id"]
        assert span["name"] == f"wecom {record['wecom.api']}"
        assert record["wecom.errcode"] == str(span["attributes"]["wecom.errcode"])
        assert record["wecom.status"] == span["attributes"]["wecom.status"]
        assert float(record["duration_s"]) > 0
    rejected = records[2]
    assert (rejected["wecom.errcode"], rejected["wecom.status"], rejected["error.type"]) == (
        "40014",
        "business_error",
        "40014",
    )
    assert "user/get" in rejected["formatted"]
    dumped = json.dumps(records)
    for secret in (wecom.corp_secret, child.report["token"], "canary-bad-token-5f1d"):
        assert secret not in dumped


def test_off_by_default(run_child: Any, http_receiver: Any) -> None:
    child = run_child({}, {"OTEL_EXPORTER_OTLP_ENDPOINT": http_receiver.endpoint})
    assert child.returncode == 0, child.stderr
    assert _call_records(child.report) == []
    assert http_receiver.received.spans()
