"""``python -m benchmarks.diagnosis [--rounds N] [--markdown PATH]``: diagnose an hour of 20 APIs.

Budget (issue 9): one hour of data for 20 APIs diagnosed in under 5 s on the local stack, with
a bounded number of queries and traces fetched. Nobody waits two hours for the data:

1. ``history.py`` writes two hours of a 20-API, two-process app (baseline hour + incident
   hour) as the scrapes Prometheus would have taken, and ``promtool tsdb create-blocks-from
   openmetrics`` turns them into TSDB blocks in the data directory of a fresh local stack;
2. the spans the tail sampler would have kept (every failure, 10 % of healthy calls) go to
   Jaeger over OTLP with their past timestamps;
3. ``diagnose()`` runs ``--rounds`` times over the last hour through ``StoredSource``, timed
   with ``time.perf_counter``, counting the Prometheus requests, Jaeger searches and traces.

No timing is asserted anywhere; the figures go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from benchmarks.diagnosis.history import PROCESSES, SERVICE, History
from benchmarks.machine import describe
from opentelemetry.instrumentation.wecom.diagnosis import StoredSource, diagnose
from opentelemetry.instrumentation.wecom.diagnosis._http import Endpoint
from opentelemetry.instrumentation.wecom.stack.build import find_binaries
from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import LocalStack


def backfill(history: History, state: Path, promtool: Path) -> float:
    """The history's metrics as TSDB blocks in ``state/prometheus-data``; seconds it took."""
    started = time.perf_counter()
    source = state / "history.om"
    with source.open("w", encoding="utf-8") as out:
        history.openmetrics(out)
    subprocess.run(
        [
            str(promtool),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(source),
            str(state / "prometheus-data"),
        ],
        check=True,
        capture_output=True,
    )
    source.unlink()
    return time.perf_counter() - started


def send_spans(history: History, endpoint: str) -> int:
    """The kept spans, with their past timestamps, to Jaeger's OTLP/gRPC receiver."""
    providers = {}
    for process, version, host in PROCESSES:
        resource = Resource.create(
            {
                "service.name": SERVICE,
                "service.version": version,
                "host.name": host,
                "service.instance.id": process,
            }
        )
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=endpoint, insecure=True), max_queue_size=100_000
            )
        )
        providers[process] = provider
    sent = 0
    for process, attributes, start, end in history.spans():
        tracer = providers[process].get_tracer("opentelemetry.instrumentation.wecom")
        span = tracer.start_span(
            f"wecom {attributes['wecom.api']}",
            kind=SpanKind.CLIENT,
            start_time=int(start * 1e9),
            attributes=attributes,  # type: ignore[arg-type]
        )
        if attributes["wecom.status"] != "ok":
            span.set_status(
                Status(StatusCode.ERROR, f"WeCom errcode {attributes['wecom.errcode']}")
            )
        span.end(end_time=int(end * 1e9))
        sent += 1
    for provider in providers.values():
        provider.force_flush()
        provider.shutdown()
    return sent


def _wait_for_service(jaeger: str, timeout: float = 60.0) -> None:
    """Poll Jaeger until it lists the history's service (its spans are stored)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with opener.open(f"{jaeger}/api/v3/services", timeout=10) as answer:
            if SERVICE in (json.load(answer).get("services") or []):
                return
        time.sleep(0.5)
    raise TimeoutError(f"Jaeger never listed {SERVICE}")


class Counting:
    """Counts the HTTP requests every backend client makes (Prometheus and Jaeger alike)."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._original = Endpoint.get_json

    def __enter__(self) -> Counting:
        original, requests, seconds = self._original, self.requests, self.seconds

        def counted(endpoint: Endpoint, path: str, params: Any, timeout: float) -> Any:
            began = time.perf_counter()
            try:
                return original(endpoint, path, params, timeout)
            finally:
                backend = endpoint.backend
                requests[backend] = requests.get(backend, 0) + 1
                seconds[backend] = seconds.get(backend, 0.0) + time.perf_counter() - began

        Endpoint.get_json = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc_info: object) -> None:
        Endpoint.get_json = self._original  # type: ignore[method-assign]


def run(rounds: int) -> dict[str, Any]:
    binaries, absent = find_binaries()
    if binaries is None:
        raise SystemExit(
            f"missing stack binaries: {', '.join(absent)}; run `wecom-otel stack build`"
        )
    start = (int(time.time()) // 60) * 60 - 7200 - 120
    history = History(start=float(start))
    with tempfile.TemporaryDirectory(prefix="bench-diagnosis-") as tmp:
        state = Path(tmp)
        backfill_s = backfill(history, state, binaries.promtool)
        ports = StackPorts.ephemeral()
        with LocalStack(binaries, ports, state, scrape_interval="15s"):
            prometheus = f"http://{HOST}:{ports.prometheus}"
            jaeger = f"http://{HOST}:{ports.jaeger_ui}"
            spans = send_spans(history, f"{HOST}:{ports.jaeger_otlp_grpc}")

            _wait_for_service(jaeger)
            results = []
            for _ in range(rounds):
                source = StoredSource(prometheus, jaeger, timeout=30, lag=0.0)
                with Counting() as counting:
                    began = time.perf_counter()
                    found = diagnose(
                        source, service=SERVICE, start=history.end - 3600, end=history.end
                    )
                    elapsed = time.perf_counter() - began
                results.append((elapsed, counting, source, found))
    times = [elapsed for elapsed, *_ in results]
    _, counting, source, found = results[-1]
    requests = counting.requests
    return {
        "rounds": rounds,
        "seconds": times,
        "median_s": statistics.median(times),
        "max_s": max(times),
        "calls": history.calls,
        "series": history.series,
        "spans_sent": spans,
        "backfill_s": backfill_s,
        "prometheus_requests": requests.get("Prometheus", 0),
        "jaeger_requests": requests.get("Jaeger", 0),
        "prometheus_request_s": counting.seconds.get("Prometheus", 0.0),
        "jaeger_request_s": counting.seconds.get("Jaeger", 0.0),
        "trace_searches": source.trace_searches,
        "traces_fetched": source.traces_fetched,
        "findings": [(f.cause, f.severity, f.failed_calls) for f in found.findings],
        "window_calls": found.calls,
    }


def render(result: dict[str, Any]) -> str:
    findings = ", ".join(
        f"{cause} ({severity}, {failed})" for cause, severity, failed in result["findings"]
    )
    rows = [
        (
            "data",
            f"20 APIs, 2 processes, 2 h ({result['calls']:,} calls, ~{result['series']:,} series; "
            f"{result['spans_sent']:,} kept spans in Jaeger)",
        ),
        (
            "diagnosed window",
            f"the last hour ({result['window_calls']:,} calls), baseline the hour before",
        ),
        (
            "diagnose() wall time",
            f"median {result['median_s']:.2f} s, max {result['max_s']:.2f} s "
            f"over {result['rounds']} rounds ({', '.join(f'{s:.2f}' for s in result['seconds'])})",
        ),
        (
            "requests per diagnosis",
            f"{result['prometheus_requests']} to Prometheus, "
            f"{result['jaeger_requests']} to Jaeger ({result['trace_searches']} "
            f"searches, {result['traces_fetched']} traces fetched)",
        ),
        (
            "time in requests (summed, last round)",
            f"Prometheus {result['prometheus_request_s']:.2f} s, "
            f"Jaeger {result['jaeger_request_s']:.2f} s (requests run concurrently)",
        ),
        ("findings", findings),
        ("backfill (promtool)", f"{result['backfill_s']:.1f} s"),
    ]
    lines = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.diagnosis")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    result = run(args.rounds)
    table = render(result)
    machine = describe()
    print(", ".join(f"{key}: {value}" for key, value in machine.items()))
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
