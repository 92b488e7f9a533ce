"""The demo's last act: the diagnosis of its own incident, in the terminal and as an HTML report.

Without a stack the diagnosis reads the spans the run kept in memory (``run.diagnosis``). With
``--stack`` it reads what the collector stored, as ``wecom-otel diagnose`` would: Prometheus for
the calls and Jaeger for the example traces. That data lands late (the SDK's last export, the
collector's batch, Prometheus' scrape interval, the tail sampler's decision wait), so the
stored diagnosis is asked again until it has seen every call of the run and an example trace
for each finding with failed calls, or until ``timeout`` passes.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Callable, Optional, TextIO

from opentelemetry.instrumentation.wecom.demo.run import DemoRun
from opentelemetry.instrumentation.wecom.diagnosis import (
    Diagnosis,
    diagnose,
    render_html,
    render_text,
)

#: Where ``wecom-otel demo`` writes the HTML report unless ``--html`` says otherwise.
DEFAULT_REPORT = "wecom-otel-demo-report.html"
# Scrape interval (15 s) + tail-sampling decision wait (10 s) of the bundled configs, and room.
STORED_TIMEOUT_S = 90.0
_POLL_S = 3.0
# Before the traffic: the stored series need a sample before the first call to count it.
_LEAD = timedelta(seconds=30)


def from_stack(
    run: DemoRun,
    progress: TextIO,
    *,
    timeout: float = STORED_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    ask: Callable[..., Diagnosis] = diagnose,
) -> Diagnosis:
    """The diagnosis from the local stack's Prometheus and Jaeger, once they hold the run.

    Raises :class:`BackendUnavailable` when Prometheus cannot be read.
    """
    service = str(run.summary["service_name"])
    calls = int(run.summary["calls"])
    deadline = clock() + timeout
    print(
        "wecom-otel demo: waiting for the run to land in Prometheus and Jaeger "
        f"(up to {timeout:g} s: scrape interval, tail-sampling decision wait) ...",
        file=progress,
    )
    while True:
        found = ask(service=service, start=run.started_at - _LEAD)
        if _complete(found, calls) or clock() >= deadline:
            return found
        sleep(_POLL_S)


def _complete(found: Diagnosis, calls: int) -> bool:
    explained = all(f.trace_ids for f in found.findings if f.failed_calls)
    return found.calls >= calls and explained


def write_report(diagnosis: Diagnosis, path: Path) -> Path:
    """Write the HTML report; the absolute path written."""
    path.write_text(render_html(diagnosis), encoding="utf-8")
    return path.resolve()


def render(diagnosis: Diagnosis, source: str, report: Optional[Path], *, color: bool) -> str:
    """The diagnosis section of the demo's terminal output."""
    lines = [
        "",
        f"Diagnosis of this run ({source}; `wecom-otel diagnose` reads the same from a stack)",
        "",
        render_text(diagnosis, color=color).rstrip("\n"),
    ]
    if report is not None:
        lines += ["", f"HTML report (open it in a browser): {report}"]
    return "\n".join(lines) + "\n"
