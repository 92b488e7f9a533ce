"""The fault scenarios, each on its own stack (collector, Jaeger, Prometheus on free ports).

Every scenario function runs the fault and returns what it observed; the tests in
``test_faults.py`` assert on it. The scenarios run at the same time in threads, so the long
waits (a 30 s collector outage, a 60 s Jaeger outage) overlap. Apps run as child processes
(``fault_app.py``, ``flood.py``) so this process only orchestrates.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from opentelemetry.instrumentation.wecom.stack.build import Binaries
from opentelemetry.instrumentation.wecom.stack.health import http_ok
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import LocalStack
from tests._support import poll
from tests.e2e.backends import Jaeger, Prometheus, collector_metrics
from tests.e2e.conftest import shortened_rules

HERE = Path(__file__).resolve().parent
APP = HERE / "fault_app.py"
FLOOD = HERE / "flood.py"

# Short timers for tests; every healthy trace is kept, so "stored" can be compared with "sent".
BASE_OVERRIDES = {
    "WECOM_OTEL_DECISION_WAIT": "3s",
    "WECOM_OTEL_SPANMETRICS_FLUSH_INTERVAL": "1s",
    "WECOM_OTEL_BATCH_TIMEOUT": "200ms",
    "WECOM_OTEL_HEALTHY_SAMPLING_PERCENT": "100",
    "WECOM_OTEL_HTTP_CHECK_INTERVAL": "30s",
    "WECOM_OTEL_EXPORT_RETRY_INITIAL_INTERVAL": "200ms",
    "WECOM_OTEL_EXPORT_RETRY_MAX_INTERVAL": "1s",
    "WECOM_OTEL_LOG_LEVEL": "warn",
}


@dataclass
class FaultStack:
    local: LocalStack
    jaeger: Jaeger
    prometheus: Prometheus

    @property
    def ports(self) -> StackPorts:
        return self.local.ports

    @property
    def otlp_http(self) -> str:
        return f"http://{HOST}:{self.ports.otlp_http}"

    def collector_metrics(self) -> dict[str, float]:
        """The collector's own counters and gauges (the Jaeger exporter's), read directly."""
        return collector_metrics(f"http://{HOST}:{self.ports.collector_metrics}/metrics")

    def stored(self, service: str) -> set[str]:
        """The ids of the spans Jaeger holds for ``service``."""
        return {span for _, span in self.jaeger.grpc_span_ids(service, search_depth=20_000)}

    def stored_including(
        self, service: str, wanted: set[str], timeout: float, interval: float = 2
    ) -> set[str]:
        """:meth:`stored` once it includes ``wanted`` (or when ``timeout`` s have passed)."""
        return poll(lambda: self.stored(service), lambda ids: wanted <= ids, timeout, interval)


@contextmanager
def fault_stack(
    binaries: Binaries,
    state: Path,
    overrides: Optional[Mapping[str, str]] = None,
) -> Iterator[FaultStack]:
    ports = StackPorts.ephemeral()
    rules = shortened_rules(bundle_dir() / "prometheus" / "rules", state / "rules")
    env = {
        **BASE_OVERRIDES,
        # The reachability probe aims at Jaeger's health endpoint: no traffic leaves the host.
        "WECOM_OTEL_HTTP_CHECK_ENDPOINT": f"http://{HOST}:{ports.jaeger_health}/status",
        **(overrides or {}),
    }
    local = LocalStack(
        binaries,
        ports,
        state / "stack",
        collector_overrides=env,
        rule_files=rules,
        scrape_interval="1s",
    )
    with local:
        yield FaultStack(
            local,
            Jaeger(f"http://{HOST}:{ports.jaeger_ui}", f"{HOST}:{ports.jaeger_grpc}"),
            Prometheus(f"http://{HOST}:{ports.prometheus}"),
        )


@dataclass
class AppRun:
    """A running fault_app.py."""

    process: subprocess.Popen[bytes]
    progress: Path
    report_path: Path
    log: Path

    def calls_made(self) -> int:
        try:
            return int(self.progress.read_text(encoding="utf-8") or 0)
        except (OSError, ValueError):
            return 0

    def wait(self, timeout: float) -> dict[str, Any]:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the app did not finish in {timeout:.0f}s") from None
        if code != 0 or not self.report_path.exists():
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the app exited with {code}:\n{tail}")
        report: dict[str, Any] = json.loads(self.report_path.read_text(encoding="utf-8"))
        return report


def start_app(workdir: Path, service: str, endpoint: str, calls: int, rate: float = 0.0) -> AppRun:
    workdir.mkdir(parents=True, exist_ok=True)
    options = {
        "service": service,
        "endpoint": endpoint,
        "calls": calls,
        "rate": rate,
        "progress": str(workdir / "progress"),
        "report": str(workdir / "report.json"),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    log = workdir / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(APP), json.dumps(options)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return AppRun(process, workdir / "progress", workdir / "report.json", log)


@dataclass
class AppFigures:
    """What the app made and what its exporter did, from its report."""

    calls: int
    exceptions: list[str]
    created: int
    delivered: set[str]  # span ids acknowledged by the collector
    given_up: int  # spans in exports the exporter abandoned after its retries
    queue_dropped: int  # spans the BatchSpanProcessor never exported (its queue was full)
    error_spans: set[str]
    error_traces: set[str]
    by_span: dict[str, tuple[str, str, bool]]  # span id -> (trace id, name, is error)
    duration_p50_ms: float
    duration_p99_ms: float
    duration_max_ms: float
    batches: list[tuple[float, int, bool]] = field(default_factory=list)

    @classmethod
    def of(cls, report: Mapping[str, Any]) -> AppFigures:
        by_span = {span: (trace, name, err) for trace, span, name, err in report["created"]}
        delivered = {span for _, span, _, _ in report["delivered"]}
        given_up = {span for _, span, _, _ in report["given_up"]} - delivered
        errors = {span for span, (_, _, err) in by_span.items() if err}
        durations = sorted(report["durations"])
        return cls(
            calls=report["calls"],
            exceptions=report["exceptions"],
            created=len(by_span),
            delivered=delivered,
            given_up=len(given_up),
            queue_dropped=len(set(by_span) - delivered - given_up),
            error_spans=errors,
            error_traces={by_span[span][0] for span in errors},
            by_span=by_span,
            duration_p50_ms=1000 * statistics.median(durations),
            duration_p99_ms=1000 * durations[int(len(durations) * 0.99) - 1],
            duration_max_ms=1000 * durations[-1],
            batches=[tuple(b) for b in report["batches"]],  # type: ignore[misc]
        )


def _wait_queue_empty(stack: FaultStack, timeout: float) -> float:
    """Seconds until the Jaeger exporter's queue is empty (polled on the collector itself)."""
    started = time.monotonic()
    poll(
        lambda: stack.collector_metrics().get("otelcol_exporter_queue_size", 1.0),
        lambda size: size == 0,
        timeout=timeout,
        interval=0.25,
    )
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# 1. kill -9 of the collector while 10,000 calls are sent


def collector_killed(binaries: Binaries, work: Path, calls: int = 10_000) -> dict[str, Any]:
    service = "fault-kill"
    # The bundled decision wait: what a crash loses from the sampling buffer grows with it.
    overrides = {"WECOM_OTEL_DECISION_WAIT": "10s"}
    with fault_stack(binaries, work, overrides) as stack:
        app = start_app(work / "app", service, stack.otlp_http, calls)
        poll(app.calls_made, lambda n: n >= calls * 4 // 10, timeout=180, interval=0.1)
        before = stack.collector_metrics()
        stack.local.kill("collector")
        killed_at = time.monotonic()
        time.sleep(0.5)
        stack.local.start("collector")
        restarted_at = time.monotonic()
        _wait_queue_empty(stack, timeout=60)
        queue_empty_at = time.monotonic()
        report = app.wait(timeout=300)
        figures = AppFigures.of(report)
        delivered_errors = figures.delivered & figures.error_spans
        stack.stored_including(service, delivered_errors, timeout=90)
        time.sleep(12)  # the last sampling decisions
        found = stack.stored(service)
        after = stack.collector_metrics()
    lost = figures.delivered - found
    return {
        "app": figures,
        "accepted_before_kill": before.get("otelcol_receiver_accepted_spans", 0.0),
        "accepted_after_restart": after.get("otelcol_receiver_accepted_spans", 0.0),
        "down_s": restarted_at - killed_at,
        "kill_to_queue_empty_s": queue_empty_at - killed_at,
        "delivered_error_spans": len(delivered_errors),
        "missing_error_spans": len(delivered_errors - found),
        "lost_non_error_spans": len(lost - figures.error_spans),
        "lost_traces_with_errors": len(
            {figures.by_span[s][0] for s in lost} & figures.error_traces
        ),
        "stored": len(found & set(figures.by_span)),
    }


# ---------------------------------------------------------------------------------------------
# 2. the collector down for 30 s while the app keeps calling


def collector_down(binaries: Binaries, work: Path, outage_s: float = 30.0) -> dict[str, Any]:
    service = "fault-down"
    rate = 25.0
    calls = int(rate * (outage_s + 20))
    with fault_stack(binaries, work) as stack:
        app = start_app(work / "app", service, stack.otlp_http, calls, rate=rate)
        poll(app.calls_made, lambda n: n >= rate * 5, timeout=60, interval=0.1)
        stack.local.stop("collector")
        down_at = time.time()
        time.sleep(outage_s)
        stack.local.start("collector")
        up_at = time.time()
        report = app.wait(timeout=outage_s + 120)
        figures = AppFigures.of(report)
        found = stack.stored_including(service, figures.delivered, timeout=60)
    during = [
        b for b in figures.batches if down_at <= b[0] <= up_at + 10 and not b[2]
    ]  # exports that gave up during the outage (each after ~7 s of retries)
    return {
        "app": figures,
        "outage_s": up_at - down_at,
        "abandoned_batches": len(during),
        "stored": len(found & set(figures.by_span)),
        "missing_delivered": len(figures.delivered - found),
    }


# ---------------------------------------------------------------------------------------------
# 3. stack down / up: Jaeger (Badger) and Prometheus (TSDB) keep their data


def stack_restarted(binaries: Binaries, work: Path) -> dict[str, Any]:
    service = "fault-restart"
    calls = 200
    with fault_stack(binaries, work) as stack:
        report = start_app(work / "app", service, stack.otlp_http, calls).wait(timeout=120)
        figures = AppFigures.of(report)
        before = stack.stored_including(service, figures.delivered, timeout=60, interval=1)
        query = f'sum(traces_span_metrics_calls_total{{service_name="{service}"}})'
        series = poll(
            lambda: stack.prometheus.query(query),
            lambda found: bool(found) and float(found[0]["value"][1]) >= calls,
            timeout=60,
        )
        at = series[0]["value"][0]
        value_before = float(series[0]["value"][1])
        stack.local.down()
        stack.local.up()
        after = stack.stored(service)
        at_query = f'sum(traces_span_metrics_calls_total{{service_name="{service}"}} @ {at})'
        payload = stack.prometheus.query(at_query)
        value_after = float(payload[0]["value"][1]) if payload else None
    return {
        "app": figures,
        "spans_before": len(before & set(figures.by_span)),
        "spans_after": len(after & set(figures.by_span)),
        "lost": len(before - after),
        "metric_before": value_before,
        "metric_after": value_after,
    }


# ---------------------------------------------------------------------------------------------
# 4. Jaeger down for 60 s: spans wait in the queue, its fill level is scraped, the alert fires


def jaeger_down(binaries: Binaries, work: Path, outage_s: float = 60.0) -> dict[str, Any]:
    service = "fault-jaeger"
    rate = 10.0
    calls = int(rate * (outage_s - 10))
    alert = "WeComCollectorExportBacklog"
    with fault_stack(binaries, work) as stack:
        stack.local.stop("jaeger")
        down_at = time.monotonic()
        app = start_app(work / "app", service, stack.otlp_http, calls, rate=rate)
        queue = "max(otelcol_exporter_queue_size{exporter='otlp_grpc/jaeger'})"
        max_queue, fired_after = 0.0, None
        while time.monotonic() - down_at < outage_s:
            sample = stack.prometheus.query(queue)
            if sample:
                max_queue = max(max_queue, float(sample[0]["value"][1]))
            firing = [
                a
                for a in stack.prometheus.alerts()
                if a["labels"]["alertname"] == alert and a["state"] == "firing"
            ]
            if firing and fired_after is None:
                fired_after = time.monotonic() - down_at
            time.sleep(1)
        report = app.wait(timeout=60)
        stack.local.start("jaeger")
        up_at = time.monotonic()
        figures = AppFigures.of(report)
        found = stack.stored_including(service, figures.delivered, timeout=90, interval=1)
        all_in_s = time.monotonic() - up_at
        drained = poll(
            lambda: stack.prometheus.query(queue),
            lambda s: bool(s) and float(s[0]["value"][1]) == 0,
            timeout=30,
        )
    return {
        "app": figures,
        "max_queue_items": max_queue,
        "alert_fired_after_s": fired_after,
        "stored_after_restart_s": all_in_s,
        "missing_delivered": len(figures.delivered - found),
        "queue_after": float(drained[0]["value"][1]) if drained else None,
    }


# ---------------------------------------------------------------------------------------------
# 5. overload: more than the collector can hold


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def overload(binaries: Binaries, work: Path, seconds: float = 20.0) -> dict[str, Any]:
    service = "fault-overload"
    limit_mib = 120
    overrides = {
        "WECOM_OTEL_MEMORY_LIMIT_MIB": str(limit_mib),
        "WECOM_OTEL_MEMORY_SPIKE_MIB": "30",
        # Tail sampling holds the whole flood in memory until it decides.
        "WECOM_OTEL_DECISION_WAIT": "20s",
        # The flood is healthy traffic: sampled away, so Jaeger sees only the app's errors.
        "WECOM_OTEL_HEALTHY_SAMPLING_PERCENT": "0",
    }
    with fault_stack(binaries, work, overrides) as stack:
        pid = stack.local.pid("collector")
        assert pid is not None
        idle_rss = _rss_mib(pid)
        rate = 20.0
        app = start_app(work / "app", service, stack.otlp_http, int(rate * (seconds + 15)), rate)
        flood = subprocess.Popen(
            [sys.executable, str(FLOOD), f"{HOST}:{stack.ports.otlp_grpc}", str(seconds), "4"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        rss: list[float] = []
        while flood.poll() is None:
            rss.append(_rss_mib(pid))
            time.sleep(0.2)
        flood_out = flood.stdout.read().decode() if flood.stdout else ""
        report = app.wait(timeout=120)
        figures = AppFigures.of(report)
        metrics = stack.collector_metrics()
        alive = stack.local.pid("collector") == pid and http_ok(
            f"http://{HOST}:{stack.ports.collector_health}/"
        )
        # Every error span the collector acknowledged, during and after the flood, is stored.
        delivered_errors = figures.delivered & figures.error_spans
        found = stack.stored_including(service, delivered_errors, timeout=60)
    summary = json.loads(flood_out.strip().splitlines()[-1])
    return {
        "app": figures,
        "flood": summary,
        "limit_mib": limit_mib,
        "idle_rss_mib": idle_rss,
        "max_rss_mib": max(rss) if rss else 0.0,
        "last_rss_mib": rss[-1] if rss else 0.0,
        "refused_spans": metrics.get("otelcol_receiver_refused_spans", 0.0),
        "accepted_spans": metrics.get("otelcol_receiver_accepted_spans", 0.0),
        "alive": alive,
        "delivered_errors": len(delivered_errors),
        "missing_delivered_errors": len(delivered_errors - found),
    }
