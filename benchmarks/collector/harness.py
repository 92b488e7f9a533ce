"""Processes and measurements of the collector throughput benchmark."""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from opentelemetry.instrumentation.wecom.stack.build import go_install
from opentelemetry.instrumentation.wecom.stack.health import http_ok, wait_until
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir, cache_dir
from opentelemetry.instrumentation.wecom.stack.ports import free_ports

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
TELEMETRYGEN = "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen"
# The newest telemetrygen the Go module proxy serves that builds with Go 1.26.
TELEMETRYGEN_VERSION = "v0.161.0"
URL = "https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=Zm9vYmFyYmF6cXV4&debug=1"
# One telemetrygen worker stays near its target up to ~1,500 spans/s; one process (one
# exporter) up to ~8,000 spans/s on the reference machine.
_PER_WORKER = 1_500
_PER_PROCESS = 8_000
# The configurations every run compares, by name; `python -m benchmarks.collector --config`
# adds others (an older bundled config, a variant) to the same rounds.
CONFIGS = {
    "passthrough": HERE / "passthrough.yaml",
    "bundled": bundle_dir() / "otelcol-config.yaml",
}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SPANS_PER_TRACE = 4
_GENERATED = re.compile(r'traces generated.*"traces": (\d+)')


def telemetrygen(cache: Optional[Path] = None) -> Path:
    """The cached telemetrygen binary, ``go install``-ed on first use."""
    cache = cache or cache_dir()
    name = f"telemetrygen-{TELEMETRYGEN_VERSION}"
    return go_install(
        TELEMETRYGEN,
        TELEMETRYGEN_VERSION,
        "telemetrygen",
        cache / "bin" / name,
        cache / "logs" / f"go-install-{name}.log",
    )


@dataclass
class Step:
    config: str
    offered: float  # spans/s telemetrygen generated
    accepted: float  # spans/s the collector's receiver accepted
    refused: float
    export_failed: float  # spans the Jaeger exporter failed to send or to enqueue
    cpu_per_kspan_ms: float  # collector CPU time per 1,000 accepted spans
    rss_mib: float
    sustained: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Collector:
    """One collector under test, its sink, and its self-metrics.

    ``config`` names the configuration in reports; its file is ``path``, by default the file
    of that name in :data:`CONFIGS`.
    """

    def __init__(
        self, binary: Path, config: str, workdir: Path, path: Optional[Path] = None
    ) -> None:
        self.binary, self.config, self.workdir = binary, config, workdir
        self.path = path or CONFIGS[config]
        (self.otlp, self.sink, self.metrics, self.health, self.prom, self.http) = free_ports(6)
        self.process: Optional[subprocess.Popen[bytes]] = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SINK_ENDPOINT": f"{HOST}:{self.sink}",
            "WECOM_OTEL_OTLP_GRPC_ENDPOINT": f"{HOST}:{self.otlp}",
            "WECOM_OTEL_OTLP_HTTP_ENDPOINT": f"{HOST}:{self.http}",
            "WECOM_OTEL_JAEGER_OTLP_ENDPOINT": f"{HOST}:{self.sink}",
            "WECOM_OTEL_METRICS_HOST": HOST,
            "WECOM_OTEL_METRICS_PORT": str(self.metrics),
            "WECOM_OTEL_HEALTH_ENDPOINT": f"{HOST}:{self.health}",
            "WECOM_OTEL_PROMETHEUS_ENDPOINT": f"{HOST}:{self.prom}",
            "WECOM_OTEL_STORAGE_DIR": str(self.workdir / "queue"),
            "WECOM_OTEL_CALL_LOG_FILE": str(self.workdir / "logs" / "calls.jsonl"),
            "WECOM_OTEL_HTTP_CHECK_ENDPOINT": f"http://{HOST}:{self.health}/",
            "WECOM_OTEL_LOG_LEVEL": "warn",
        }

    @contextmanager
    def running(self) -> Iterator[Collector]:
        with ExitStack() as stack:
            sink = self._start([f"--config=file:{HERE / 'sink.yaml'}"], "sink")
            stack.callback(_stop, sink)
            _wait_port(self.sink)
            self.process = self._start([f"--config=file:{self.path}"], self.config)
            stack.callback(_stop, self.process)  # stopped first: it flushes to the sink
            if not wait_until(self._metrics_ok, 30):
                raise RuntimeError(f"the {self.config} collector did not start")
            yield self

    def _start(self, args: Sequence[str], name: str) -> subprocess.Popen[bytes]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"{name}.log").open("ab")
        return subprocess.Popen(
            [str(self.binary), *args], env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )

    def _metrics_ok(self) -> bool:
        return http_ok(f"http://{HOST}:{self.metrics}/metrics")

    def counters(self) -> dict[str, float]:
        """Receiver and Jaeger-exporter counters, summed over labels, plus CPU seconds."""
        url = f"http://{HOST}:{self.metrics}/metrics"
        with _NO_PROXY.open(url, timeout=5) as response:
            text = response.read().decode()
        totals: dict[str, float] = {}
        for line in text.splitlines():
            if not line.startswith("otelcol_") or " " not in line:
                continue
            name, _, value = line.rpartition(" ")
            if 'exporter="' in name and "otlp_grpc" not in name:
                continue
            key = name.split("{", 1)[0].removesuffix("_total")
            totals[key] = totals.get(key, 0.0) + float(value)
        assert self.process is not None
        totals["cpu_s"] = _cpu_seconds(self.process.pid)
        totals["rss_mib"] = _rss_mib(self.process.pid)
        return totals


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_port(port: int) -> None:
    def open_() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex((HOST, port)) == 0

    wait_until(open_, 30, interval=0.1)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load(
    generator: Path, endpoint: str, rate: float, seconds: float, logs: Path
) -> list[subprocess.Popen[bytes]]:
    """telemetrygen processes offering about ``rate`` spans/s (4-span traces) for ``seconds``.

    ``rate`` 0 is the issue's original load: one process, two unthrottled workers. It is bound
    by the round trip of each export (telemetrygen waits for it and drops what piles up), so it
    measures the collector's latency per request more than its capacity.
    """
    if rate:
        processes = max(1, math.ceil(rate / _PER_PROCESS))
        workers = max(1, math.ceil(rate / processes / _PER_WORKER))
        per_worker = rate / processes / workers
    else:
        processes, workers, per_worker = 1, 2, 0.0
    argv = [
        str(generator),
        "traces",
        "--otlp-endpoint",
        endpoint,
        "--otlp-insecure",
        "--workers",
        str(workers),
        "--rate",
        f"{per_worker:.1f}",
        "--duration",
        f"{seconds}s",
        "--child-spans",
        str(SPANS_PER_TRACE - 1),
        "--batch-size",
        "256",
        "--service",
        "bench",
        "--telemetry-attributes",
        f'url.full="{URL}"',
    ]
    logs.mkdir(parents=True, exist_ok=True)
    started = []
    for index in range(processes):
        with (logs / f"telemetrygen-{index}.log").open("wb") as out:
            started.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT))
    return started


def generated_spans(logs: Path) -> int:
    """Spans the telemetrygen runs logged as generated ("traces generated" x spans per trace)."""
    traces = 0
    for log in logs.glob("telemetrygen-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            match = _GENERATED.search(line)
            if match:
                traces += int(match.group(1))
    return traces * SPANS_PER_TRACE


def measure_step(
    collector: Collector, generator: Path, rate: float, seconds: float, settle: float = 1.0
) -> Step:
    """Offer ``rate`` spans/s for ``seconds`` and judge the step on everything generated.

    The counters are read ``settle`` seconds after the load ends: 1 s lets the last requests in
    flight land. The bundled config does part of its work later (tail sampling decides, and the
    kept spans are scrubbed and exported, ``decision_wait`` after a trace arrived): a settle
    longer than that puts this work in the step's CPU figure too.
    """
    logs = collector.workdir / f"load-{int(rate)}"
    before = collector.counters()
    for process in load(generator, f"{HOST}:{collector.otlp}", rate, seconds, logs):
        process.wait(timeout=seconds + 60)
    time.sleep(settle)
    after = collector.counters()
    delta = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after}
    offered = generated_spans(logs)
    accepted = delta.get("otelcol_receiver_accepted_spans", 0.0)
    refused = delta.get("otelcol_receiver_refused_spans", 0.0)
    failed = delta.get("otelcol_exporter_send_failed_spans", 0.0) + delta.get(
        "otelcol_exporter_enqueue_failed_spans", 0.0
    )
    # Sustained: the collector took (almost) everything generated. telemetrygen drops what it
    # cannot export in time, so a collector that falls behind shows as accepted < generated.
    # (Unthrottled, telemetrygen always generates more than it can send: only the collector's
    # own refusals and failures count.)
    taken = accepted >= 0.98 * offered or not rate
    sustained = offered > 0 and taken and refused == 0 and failed == 0
    return Step(
        config=collector.config,
        offered=offered / seconds,
        accepted=accepted / seconds,
        refused=refused,
        export_failed=failed,
        cpu_per_kspan_ms=1000 * 1000 * delta["cpu_s"] / accepted if accepted else math.inf,
        rss_mib=after["rss_mib"],
        sustained=sustained,
    )
