"""One real stack (WeCom collector, Jaeger, Prometheus) for the whole E2E session.

The collector runs the bundled otelcol-config.yaml unchanged; only environment variables
move its ports and shorten its timers. Prometheus loads a copy of the bundled rules in
which only the ``for:`` durations are shortened (the expressions are the bundled ones).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from opentelemetry.instrumentation.wecom import WeComInstrumentor
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import LocalStack
from opentelemetry.instrumentation.wecom.testing import MockWeComServer
from tests.collector.binaries import require_binaries
from tests.e2e.backends import Jaeger, Prometheus, collector_metrics

# Share of healthy traces the tail sampler keeps in this session (the bundled default is 10).
HEALTHY_PERCENT = 25
COLLECTOR_OVERRIDES = {
    "WECOM_OTEL_DECISION_WAIT": "2s",
    "WECOM_OTEL_SPANMETRICS_FLUSH_INTERVAL": "1s",
    "WECOM_OTEL_BATCH_TIMEOUT": "200ms",
    "WECOM_OTEL_HEALTHY_SAMPLING_PERCENT": str(HEALTHY_PERCENT),
    "WECOM_OTEL_HTTP_CHECK_INTERVAL": "2s",
    "WECOM_OTEL_EXPORT_RETRY_INITIAL_INTERVAL": "200ms",
    "WECOM_OTEL_EXPORT_RETRY_MAX_INTERVAL": "1s",
}
SHORT_FOR = "2s"


def shortened_rules(source_dir: Path, target_dir: Path) -> list[Path]:
    """Copies of the bundled rule files whose ``for:`` durations are ``SHORT_FOR``."""
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(source_dir.glob("*.yml")):
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
        for group in document["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = SHORT_FOR
        target = target_dir / source.name
        target.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        written.append(target)
    return written


class Stack:
    """The running stack plus clients for its backends."""

    def __init__(self, local: LocalStack, probe: MockWeComServer) -> None:
        self.local = local
        self.ports: StackPorts = local.ports
        self.probe = probe
        self.jaeger = Jaeger(
            f"http://{HOST}:{self.ports.jaeger_ui}", f"{HOST}:{self.ports.jaeger_grpc}"
        )
        self.prometheus = Prometheus(f"http://{HOST}:{self.ports.prometheus}")
        self.otlp_endpoint = f"{HOST}:{self.ports.otlp_grpc}"

    def collector_metrics(self, **labels: str) -> dict[str, float]:
        """The collector's own counters and gauges (the Jaeger exporter's), read directly."""
        url = f"http://{HOST}:{self.ports.collector_metrics}/metrics"
        return collector_metrics(url, **labels)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binaries = require_binaries()
    state = tmp_path_factory.mktemp("stack")
    rules = shortened_rules(bundle_dir() / "prometheus" / "rules", state / "rules")
    with MockWeComServer(seed=7) as probe:
        overrides = {**COLLECTOR_OVERRIDES, "WECOM_OTEL_HTTP_CHECK_ENDPOINT": probe.base_url}
        local = LocalStack(
            binaries,
            StackPorts.ephemeral(),
            state,
            collector_overrides=overrides,
            rule_files=rules,
            scrape_interval="1s",
        )
        with local:
            yield Stack(local, probe)


@pytest.fixture
def mock() -> Iterator[MockWeComServer]:
    with MockWeComServer(seed=3) as server:
        yield server


_services = itertools.count(1)


class App:
    """An instrumented application exporting to the stack's collector over OTLP/gRPC."""

    def __init__(self, service: str, endpoint: str, resource: dict[str, Any]) -> None:
        self.service = service
        attributes = {"service.name": service, **resource}
        self.resource = Resource.create(attributes)
        self.tracer_provider = TracerProvider(resource=self.resource)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=endpoint, insecure=True), schedule_delay_millis=200
            )
        )
        self.meter_provider = MeterProvider(
            resource=self.resource,
            metric_readers=[
                PeriodicExportingMetricReader(
                    OTLPMetricExporter(endpoint=endpoint, insecure=True),
                    export_interval_millis=500,
                )
            ],
        )
        self.tracer = self.tracer_provider.get_tracer("e2e-app")

    def flush(self) -> None:
        self.tracer_provider.force_flush()
        self.meter_provider.force_flush()

    def shutdown(self) -> None:
        self.flush()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


@pytest.fixture
def make_app(stack: Stack, mock: MockWeComServer) -> Iterator[Callable[..., App]]:
    """``make_app(name)``: an :class:`App` with WeComInstrumentor on, pointed at ``mock``.

    Each app gets a unique service name, so tests never see each other's data.
    """
    apps: list[App] = []

    def factory(name: str, **resource: Any) -> App:
        app = App(f"e2e-{name}-{next(_services)}", stack.otlp_endpoint, resource)
        WeComInstrumentor().instrument(
            tracer_provider=app.tracer_provider,
            meter_provider=app.meter_provider,
            hosts=[mock.host],
        )
        apps.append(app)
        return app

    yield factory
    WeComInstrumentor().uninstrument()
    for app in apps:
        app.shutdown()
