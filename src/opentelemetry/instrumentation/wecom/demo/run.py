"""One demo run: mock with the incident scenario, instrumented clients, traffic, summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional, TextIO

from opentelemetry.instrumentation.wecom import WeComInstrumentor
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
from opentelemetry.instrumentation.wecom.testing import (
    ManualClock,
    MockWeComServer,
    wechatpy_client,
)


@dataclass(frozen=True)
class DemoOptions:
    """``otlp``: export to the collector of the ``OTEL_EXPORTER_OTLP_*`` variables."""

    calls: int = 240
    duration: float = 12.0
    seed: int = 7
    service_name: str = "wecom-otel-demo"
    otlp: bool = False


def run_demo(options: DemoOptions, progress_out: TextIO) -> dict[str, Any]:
    """Run the demo and return its summary (see :func:`summary.summarize`, plus run details)."""
    scenario = build_scenario(options.duration, options.seed)
    steps = build_plan(options.calls, options.duration, options.seed)
    telemetry = DemoTelemetry(options.service_name, otlp=options.otlp)
    # The incident is timed on the plan, not on the wall clock (drive() moves this clock).
    plan_clock = ManualClock()
    mock = MockWeComServer(
        scenario=scenario,
        seed=options.seed,
        webhook_per_minute=webhook_limit(options.calls),
        clock=plan_clock,
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
            started = time.monotonic()
            drive(steps, clients, tracer, options.seed, progress, plan_clock=plan_clock)
            elapsed = time.monotonic() - started
        finally:
            if httpx_client is not None:
                httpx_client.close()
            instrumentor.uninstrument()
        mock_url = mock.base_url
    data = telemetry.metrics_data()
    telemetry.shutdown()
    summary = summarize(data, telemetry.recorder)
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
    return summary
