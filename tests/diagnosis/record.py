"""Record what the real Prometheus and Jaeger answer to ``diagnose()``, for the unit tests.

Run it from the repository root (needs the stack binaries, ``wecom-otel stack build``)::

    .venv/bin/python -m tests.diagnosis.record

It starts a private collector + Jaeger + Prometheus on free ports, runs every incident
scenario of ``scenario_app.py`` concurrently (one service each, real instrumented wechatpy and
httpx clients against the mock with the fault injected), waits until the backends hold the
data, runs ``diagnose()`` on each and writes every request it made with the answer
(``tests/diagnosis/recordings/diagnose/<scenario>.json``). Then it stops Jaeger, runs the
``telemetry_loss`` scenario (the collector cannot export) and records a diagnosis from
metrics alone. Rerun it when a query of the stored source or a backend's version changes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from opentelemetry.instrumentation.wecom.diagnosis import Diagnosis, StoredSource, diagnose
from opentelemetry.instrumentation.wecom.diagnosis._http import Answer, Endpoint
from opentelemetry.instrumentation.wecom.stack.build import find_binaries
from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import LocalStack
from opentelemetry.instrumentation.wecom.testing import MockWeComServer
from tests._support import poll
from tests.diagnosis.harness import (
    Run,
    get_json,
    run_scenario,
    run_scenarios,
    wait_for_metrics,
)
from tests.diagnosis.recorded import RECORDINGS
from tests.diagnosis.scenario_app import SCENARIOS
from tests.e2e.conftest import COLLECTOR_OVERRIDES

#: How late data reaches this stack's Prometheus (SDK 0.5 s, batch 0.2 s, scrape 1 s).
LAG = 2.0
#: The telemetry_loss scenario keeps the exporter's queue full long enough to be stuck.
LOSS_SECONDS = 25.0

_exchanges: list[dict[str, Any]] = []
_original_get_json = Endpoint.get_json


def _recording_get_json(
    self: Endpoint, path: str, params: Optional[dict[str, str]], timeout: float
) -> Answer:
    answer = _original_get_json(self, path, params, timeout)
    _exchanges.append(
        {
            "path": path,
            "params": dict(params or {}),
            "status": answer.status,
            "payload": answer.payload,
        }
    )
    return answer


def settled(found: Diagnosis) -> bool:
    """Jaeger holds the example traces (or there is nothing to show)."""
    return found.healthy or bool(found.findings and found.findings[0].trace_ids)


def record(
    name: str, run: Run, prometheus: str, jaeger: str, service: str = "", **meta: Any
) -> None:
    start, end = run.window
    service = service or run.service
    found: Optional[Diagnosis] = None

    def attempt() -> bool:
        nonlocal found
        _exchanges.clear()
        now = time.time()
        source = StoredSource(prometheus, jaeger, timeout=10, lag=LAG)
        found = diagnose(source, service=service, start=start, end=end, clock=lambda: now)
        meta["now"] = now
        return meta.get("jaeger_down", False) or settled(found)

    poll(attempt, bool, timeout=30, interval=1.0)
    assert found is not None
    document = {
        "meta": {
            "scenario": run.scenario,
            "service": service,
            "start": start,
            "end": end,
            "lag": LAG,
            "fault_start": run.fault_start,
            "fault_end": run.fault_end,
            **meta,
        },
        "exchanges": list(_exchanges),
    }
    RECORDINGS.mkdir(parents=True, exist_ok=True)
    # One exchange per line: compact, and a diff still shows which answer changed.
    lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in document["exchanges"])
    meta = json.dumps(document["meta"], ensure_ascii=False)
    text = f'{{"meta": {meta},\n"exchanges": [\n{lines}\n]}}\n'
    (RECORDINGS / f"{name}.json").write_text(text, encoding="utf-8")
    first = found.findings[0].cause if found.findings else "-"
    print(f"{name}: {len(_exchanges)} exchanges, first finding {first}", flush=True)


def main() -> int:
    binaries, absent = find_binaries()
    if binaries is None:
        print(f"missing stack binaries: {', '.join(absent)}; run `wecom-otel stack build`")
        return 2
    Endpoint.get_json = _recording_get_json  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as state, MockWeComServer(seed=7) as probe:
        ports = StackPorts.ephemeral()
        overrides = {**COLLECTOR_OVERRIDES, "WECOM_OTEL_HTTP_CHECK_ENDPOINT": probe.base_url}
        local = LocalStack(
            binaries, ports, Path(state), collector_overrides=overrides, scrape_interval="1s"
        )
        with local:
            prometheus = f"http://{HOST}:{ports.prometheus}"
            jaeger = f"http://{HOST}:{ports.jaeger_ui}"
            otlp = f"{HOST}:{ports.otlp_grpc}"
            scenarios = [name for name in SCENARIOS if name != "telemetry_loss"]
            runs = run_scenarios([(name, f"rec-{name}") for name in scenarios], otlp)
            wait_for_metrics(prometheus, list(runs.values()))
            for name, run in runs.items():
                record(name, run, prometheus, jaeger)
            record("unknown_service", runs["healthy"], prometheus, jaeger, "no-such-service")

            local.stop("jaeger")
            loss = run_scenario(
                "telemetry_loss", "rec-telemetry_loss", otlp, healthy=4.0, fault=LOSS_SECONDS
            )
            wait_for_metrics(prometheus, [loss])
            down = f"http://{HOST}:{ports.jaeger_ui}"
            record("telemetry_loss", loss, prometheus, down, jaeger_down=True)
            versions = get_json(f"{prometheus}/api/v1/status/buildinfo")["data"]["version"]
            print(f"recorded from Prometheus {versions}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
