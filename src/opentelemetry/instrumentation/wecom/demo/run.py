"""One demo run: mock with the incident scenario, instrumented clients, traffic, summary, and
the diagnosis of the incident from the spans the run kept in memory."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, TextIO

from opentelemetry.instrumentation.wecom import WeComInstrumentor
from opentelemetry.instrumentation.wecom.demo.chains import chains_summary
from opentelemetry.instrumentation.wecom.demo.clients import HttpxWeComClient
from opentelemetry.instrumentation.wecom.demo.driver import Clients, Progress, drive
from opentelemetry.instrumentation.wecom.demo.report import where_to_look
from opentelemetry.instrumentation.wecom.demo.scenario import (
    build_plan,
    build_scenario,
    webhook_limit,
)
from opentelemetry.instrumentation.wecom.demo.summary import summarize
from opentelemetry.instrumentation.wecom.demo.telemetry import DemoTelemetry
from opentelemetry.instrumentation.wecom.diagnosis import Diagnosis, MemorySource, diagnose
from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client

# Around the traffic, so the first and last calls are inside the diagnosed window.
_WINDOW_MARGIN = timedelta(seconds=1)


@dataclass(frozen=True)
class DemoOptions:
    """``otlp``: export to the collector of the ``OTEL_EXPORTER_OTLP_*`` variables."""

    calls: int = 240
    duration: float = 12.0
    seed: int = 7
    service_name: str = "wecom-otel-demo"
    otlp: bool = False


class _TrafficClock:
    """The mock's clock: it stands still until the traffic starts, so the scenario's time line
    (fault windows, token expiry) is the traffic's, however long the clients took to set up."""

    def __init__(self) -> None:
        self._started: Optional[float] = None

    def start(self) -> None:
        self._started = time.monotonic()

    def __call__(self) -> float:
        return 0.0 if self._started is None else time.monotonic() - self._started


@dataclass(frozen=True)
class DemoRun:
    """What one run produced: the summary (:func:`summary.summarize` plus run details), the
    diagnosis of its incident from the spans kept in memory, and when the traffic ran."""

    summary: dict[str, Any]
    diagnosis: Diagnosis
    started_at: datetime
    ended_at: datetime


def run_demo(options: DemoOptions, progress_out: TextIO) -> DemoRun:
    """Run the demo: traffic through instrumented clients, then summary and diagnosis."""
    scenario = build_scenario(options.duration, options.seed)
    steps = build_plan(options.calls, options.duration, options.seed)
    telemetry = DemoTelemetry(options.service_name, otlp=options.otlp)
    clock = _TrafficClock()
    mock = MockWeComServer(
        scenario=scenario,
        seed=options.seed,
        webhook_per_minute=webhook_limit(options.calls),
        clock=clock,
    )
    instrumentor = WeComInstrumentor()
    httpx_client: Optional[HttpxWeComClient] = None
    with mock:
        instrumentor.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            hosts=[mock.host],
        )
        try:
            httpx_client = HttpxWeComClient(mock.api_base_url, mock.corp_id, mock.corp_secret)
            clients = Clients(httpx_client, wechatpy_client(mock, timeout=10), mock)
            tracer = telemetry.tracer_provider.get_tracer("wecom-otel-demo")
            progress = Progress(len(steps), progress_out, lambda: telemetry.recorder.failures)
            started_at = datetime.now(timezone.utc)
            clock.start()
            started = time.monotonic()
            drive(steps, clients, tracer, options.seed, progress)
            elapsed = time.monotonic() - started
            ended_at = datetime.now(timezone.utc)
        finally:
            if httpx_client is not None:
                httpx_client.close()
            instrumentor.uninstrument()
        mock_url = mock.base_url
        deliveries = mock.deliveries()  # what the mock WeCom silently discarded
    data = telemetry.metrics_data()
    telemetry.shutdown()
    summary = summarize(data, telemetry.recorder)
    summary["chains"] = chains_summary(data, telemetry.chains, deliveries)
    summary.update(
        elapsed_s=round(elapsed, 2),
        mock_url=mock_url,
        operations=len(steps),
        seed=options.seed,
        service_name=options.service_name,
        scenario=scenario.to_dict(),
        telemetry={
            "otlp_endpoint": telemetry.target.endpoint if telemetry.target else None,
            "delivered": None if telemetry.target is None else not telemetry.export_failing(),
        },
    )
    summary["where"] = where_to_look(options.service_name, summary)
    diagnosis = diagnose(
        MemorySource(telemetry.keeper.spans(), data),
        service=options.service_name,
        start=started_at - _WINDOW_MARGIN,
        end=ended_at + _WINDOW_MARGIN,
    )
    return DemoRun(summary, diagnosis, started_at, ended_at)
