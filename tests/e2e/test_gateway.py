"""An agent and two gateways on loopback: whole traces, kept errors, exact metrics, failover.

The agent runs collector/gateway/agent.yaml with a resolver file and routes the telemetry of
instrumented app processes (``enable()`` + wechatpy against the mock) by trace id to two gateways
running otelcol-config.yaml + gateway/gateway.yaml. They tail-sample, compute span metrics, export
traces to the session's Jaeger and expose metrics to a Prometheus of their own.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from opentelemetry.instrumentation.wecom.testing import MockWeComServer
from tests._support import poll, require
from tests.collector.binaries import require_binaries
from tests.e2e.backends import Prometheus, get_text
from tests.e2e.conftest import COLLECTOR_OVERRIDES, Stack
from tests.e2e.gateway import (
    GATEWAY_HOSTS,
    HOST,
    App,
    Process,
    bundle,
    can_private_mount,
    collector_argv,
    free_port,
    prometheus_config,
    shared_free_port,
    with_hosts_file,
    write_hosts,
)

pytestmark = pytest.mark.e2e

GATEWAYS = ("gateway-a", "gateway-b")
GATEWAY_DNS_NAME = "gateways.wecom-otel.test"
AGENT_TIMERS = {
    "WECOM_OTEL_BATCH_TIMEOUT": "200ms",
    "WECOM_OTEL_GATEWAY_RETRY_INITIAL_INTERVAL": "200ms",
    "WECOM_OTEL_GATEWAY_RETRY_MAX_INTERVAL": "1s",
    "WECOM_OTEL_EXPORT_RETRY_INITIAL_INTERVAL": "200ms",
    "WECOM_OTEL_EXPORT_RETRY_MAX_INTERVAL": "1s",
}
Traces = dict[str, list[dict[str, Any]]]
_services = itertools.count(1)


@dataclass
class Agent:
    process: Process
    otlp_grpc: str
    otlp_http: str
    metrics_url: str

    def ring_updates(self) -> float:
        """How many times a load balancer's hash ring changed, from the agent's own metrics.

        One series for all the agent's load balancers (one per exporter and signal), so a
        change of the gateway list shows as one update per balancer.
        """
        for line in get_text(self.metrics_url).splitlines():
            if line.startswith("otelcol_loadbalancer_num_backend_updates{"):
                return float(line.rsplit(" ", 1)[1])
        return 0


def balancers() -> int:
    """The agent's load balancers: one per load_balancing exporter and signal it serves."""
    agent = yaml.safe_load(bundle("gateway", "agent.yaml").read_text(encoding="utf-8"))
    return len(
        {
            (exporter, pipeline.split("/")[0])
            for pipeline, spec in agent["service"]["pipelines"].items()
            for exporter in spec["exporters"]
            if exporter.split("/")[0] == "load_balancing"
        }
    )


@dataclass
class Pool:
    """Two gateways (one OTLP port on two loopback addresses), their Prometheus, the mock."""

    stack: Stack
    mock: MockWeComServer
    state: Path
    collector: Path
    otlp_port: int
    gateways: dict[str, Process]
    prometheus: Prometheus
    agents: list[Process] = field(default_factory=list)

    def static_list(self) -> str:
        return "[" + ", ".join(f"{host}:{self.otlp_port}" for host in GATEWAY_HOSTS) + "]"

    def agent(
        self,
        resolver: str,
        env: Mapping[str, str],
        wrap: Callable[[list[str]], list[str]] = list,
    ) -> Agent:
        name = f"agent-{resolver}-{len(self.agents)}"
        grpc, http, health, metrics = (free_port() for _ in range(4))
        configs = (bundle("gateway", "agent.yaml"), bundle("gateway", f"resolver-{resolver}.yaml"))
        process = Process(
            name,
            wrap(collector_argv(self.collector, *configs)),
            {
                **AGENT_TIMERS,
                "WECOM_OTEL_OTLP_GRPC_ENDPOINT": f"{HOST}:{grpc}",
                "WECOM_OTEL_OTLP_HTTP_ENDPOINT": f"{HOST}:{http}",
                "WECOM_OTEL_HEALTH_ENDPOINT": f"{HOST}:{health}",
                "WECOM_OTEL_METRICS_HOST": HOST,
                "WECOM_OTEL_METRICS_PORT": str(metrics),
                "WECOM_OTEL_STORAGE_DIR": str(self.state / name),
                **env,
            },
            f"http://{HOST}:{health}/",
            self.state / "logs",
        )
        self.agents.append(process)
        process.start()
        return Agent(
            process,
            f"http://{HOST}:{grpc}",
            f"http://{HOST}:{http}",
            f"http://{HOST}:{metrics}/metrics",
        )

    def app(self, kind: str, agent: Agent, **env: str) -> App:
        return App(
            f"gw-{kind}-{next(_services)}",
            self.mock,
            {"OTEL_EXPORTER_OTLP_ENDPOINT": agent.otlp_http, **env},
        )

    def traces(self, service: str) -> Traces:
        """Trace id -> spans in Jaeger, each span with the gateway that kept it (``gateway``)."""
        payload = self.stack.jaeger.v3_traces(service, raw=True) or {}
        traces: Traces = defaultdict(list)
        for resource_spans in payload.get("result", {}).get("resourceSpans", []):
            resource = {
                a["key"]: next(iter(a["value"].values()))
                for a in resource_spans.get("resource", {}).get("attributes", [])
            }
            gateway = resource.get("wecom.otel.gateway")
            for scope_spans in resource_spans.get("scopeSpans", []):
                for span in scope_spans.get("spans", []):
                    traces[span["traceId"]].append({**span, "gateway": gateway})
        return dict(traces)

    def wait_for_whole(self, service: str, made: Mapping[str, int], wanted: set[str]) -> Traces:
        """The service's traces once every ``wanted`` trace is in Jaeger with all its spans."""
        return poll(
            lambda: self.traces(service),
            lambda found: all(len(found.get(t, ())) == made[t] for t in wanted),
            timeout=40,
        )

    def settled(self, service: str, quiet: float = 4.0) -> Traces:
        """The service's traces once no span arrived for ``quiet`` seconds (sampling waits 2 s)."""
        last = {"spans": -1, "since": time.monotonic()}

        def quiet_for_a_while(found: Traces) -> bool:
            spans = sum(len(s) for s in found.values())
            if spans != last["spans"]:
                last.update(spans=spans, since=time.monotonic())
            return time.monotonic() - last["since"] >= quiet

        return poll(lambda: self.traces(service), quiet_for_a_while, timeout=60)

    def restore(self, name: str) -> None:
        if not self.gateways[name].running:
            self.gateways[name].start()


@pytest.fixture(scope="module")
def pool(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    binaries = require_binaries()
    state = tmp_path_factory.mktemp("gateways")
    otlp_port = shared_free_port(GATEWAY_HOSTS)
    configs = (bundle("otelcol-config.yaml"), bundle("gateway", "gateway.yaml"))
    gateways: dict[str, Process] = {}
    exporters: list[str] = []
    with MockWeComServer(seed=11) as mock:
        for name, host in zip(GATEWAYS, GATEWAY_HOSTS):
            http, health, exporter, metrics = (free_port() for _ in range(4))
            exporters.append(f"{HOST}:{exporter}")
            gateways[name] = Process(
                name,
                collector_argv(binaries.collector, *configs),
                {
                    **COLLECTOR_OVERRIDES,
                    "WECOM_OTEL_GATEWAY_NAME": name,
                    "WECOM_OTEL_OTLP_GRPC_ENDPOINT": f"{host}:{otlp_port}",
                    "WECOM_OTEL_OTLP_HTTP_ENDPOINT": f"{HOST}:{http}",
                    "WECOM_OTEL_HEALTH_ENDPOINT": f"{HOST}:{health}",
                    "WECOM_OTEL_PROMETHEUS_ENDPOINT": f"{HOST}:{exporter}",
                    "WECOM_OTEL_METRICS_HOST": HOST,
                    "WECOM_OTEL_METRICS_PORT": str(metrics),
                    "WECOM_OTEL_JAEGER_OTLP_ENDPOINT": f"{HOST}:{stack.ports.jaeger_otlp_grpc}",
                    "WECOM_OTEL_STORAGE_DIR": str(state / name),
                    "WECOM_OTEL_CALL_LOG_FILE": str(state / name / "wecom-calls.jsonl"),
                    "WECOM_OTEL_HTTP_CHECK_ENDPOINT": mock.base_url,
                },
                f"http://{HOST}:{health}/",
                state / "logs",
            )
        port = free_port()
        prometheus_yml = state / "prometheus.yml"
        prometheus_yml.write_text(prometheus_config({"gateways": exporters}), encoding="utf-8")
        prometheus = Process(
            "prometheus",
            [
                str(binaries.prometheus),
                f"--config.file={prometheus_yml}",
                f"--storage.tsdb.path={state / 'prometheus-data'}",
                f"--web.listen-address={HOST}:{port}",
            ],
            {},
            f"http://{HOST}:{port}/-/ready",
            state / "logs",
        )
        pool = Pool(
            stack,
            mock,
            state,
            binaries.collector,
            otlp_port,
            gateways,
            Prometheus(f"http://{HOST}:{port}"),
        )
        try:
            for process in (*gateways.values(), prometheus):
                process.start()
            yield pool
        finally:
            for process in (*pool.agents, *gateways.values(), prometheus):
                process.stop()


def by_gateway(traces: Traces) -> Counter[str]:
    return Counter(str(spans[0]["gateway"]) for spans in traces.values())


def assert_whole(traces: Traces, made: Mapping[str, int]) -> None:
    """Every trace is one the app made, with all its spans, kept by exactly one gateway."""
    assert set(traces) <= set(made), "Jaeger holds traces the app never made"
    for trace_id, spans in traces.items():
        assert len(spans) == made[trace_id], f"trace {trace_id} is not whole: {len(spans)} spans"
        gateways = {span["gateway"] for span in spans}
        assert len(gateways) == 1, f"trace {trace_id} was split across gateways {gateways}"
        assert gateways <= set(GATEWAYS)


def test_static_agent_keeps_traces_whole_and_every_error_and_span_metrics_exact(pool: Pool) -> None:
    agent = pool.agent("static", {"WECOM_OTEL_GATEWAY_ENDPOINTS": pool.static_list()})
    apps = [
        pool.app("orders", agent),  # OTLP/HTTP
        pool.app(
            "notify",
            agent,
            OTEL_EXPORTER_OTLP_ENDPOINT=agent.otlp_grpc,
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        ),
    ]
    try:
        for app in apps:  # two services at once, one process each
            app.request(traces=60, error_every=4)
        results = [app.result() for app in apps]
    finally:
        for app in apps:
            app.close()

    for app, result in zip(apps, results):
        made = {**result["traces"], app.setup_trace: 2}
        errors = set(result["errors"])
        pool.wait_for_whole(app.service, made, errors)
        found = pool.settled(app.service)
        assert errors <= set(found), (
            f"{app.service}: {len(errors - set(found))} error traces were not kept"
        )
        assert_whole(found, made)
        assert set(by_gateway(found)) == set(GATEWAYS), (
            "the trace ids did not spread over both gateways"
        )

    services = "|".join(app.service for app in apps)
    expected = {
        app.service: result["calls"] + app.setup_calls for app, result in zip(apps, results)
    }

    def totals(promql: str) -> dict[str, float]:
        values = pool.prometheus.values(promql, "service_name", "job")
        return {service or job: value for (service, job), value in values.items()}

    client = f'service_name=~"{services}",span_kind="SPAN_KIND_CLIENT"'
    span_calls = f"sum by (service_name) (traces_span_metrics_calls_total{{{client}}})"
    got = poll(lambda: totals(span_calls), lambda t: t == expected, timeout=30)
    assert got == expected, "span metrics summed over the gateways are not the calls made"
    writers = (
        "count by (service_name) (sum by (service_name, collector_instance_id) "
        f"(traces_span_metrics_calls_total{{{client}}}))"
    )
    assert totals(writers) == dict.fromkeys(expected, 2), (
        "each gateway counts its own traces' spans"
    )
    histogram = f'sum by (job) (wecom_client_duration_seconds_count{{job=~"{services}"}})'
    got = poll(lambda: totals(histogram), lambda t: t == expected, timeout=30)
    assert got == expected, "the client histogram's count is not the calls made"


def test_static_agent_holds_a_dead_gateways_share_until_it_returns(pool: Pool) -> None:
    """The static list cannot notice a dead gateway: its share waits in the agent, not moved."""
    agent = pool.agent("static", {"WECOM_OTEL_GATEWAY_ENDPOINTS": pool.static_list()})
    app = pool.app("static-failover", agent)
    pool.gateways["gateway-b"].kill()
    try:
        app.request(traces=40, error_every=2)
        result = app.result()
        made, errors = {**result["traces"], app.setup_trace: 2}, set(result["errors"])
        during = pool.settled(app.service)
        assert_whole(during, made)
        assert set(by_gateway(during)) == {"gateway-a"}, "traffic reached the dead gateway"
        assert during, "the live gateway's share did not arrive"
        waiting = errors - set(during)
        assert waiting, "no trace id hashed to the dead gateway: the static list moved traffic"

        pool.gateways["gateway-b"].start()
        after = pool.wait_for_whole(app.service, made, errors)
        assert errors <= set(after), "an error trace queued for the dead gateway was lost"
        assert_whole(after, made)
        assert {after[t][0]["gateway"] for t in waiting} == {"gateway-b"}
    finally:
        app.close()
        pool.restore("gateway-b")


def test_dns_agent_moves_traffic_off_a_dead_gateway(pool: Pool) -> None:
    """A gateway that leaves the DNS answer leaves the hash ring; its share moves to the others.

    The agent resolves a name from its own /etc/hosts (a private mount namespace), which the test
    rewrites the way Kubernetes drops a pod that is not Ready from a headless Service.
    """
    require(can_private_mount(), "the dns resolver test needs `unshare --mount` (root)")
    hosts = pool.state / "hosts"
    write_hosts(hosts, GATEWAY_DNS_NAME, GATEWAY_HOSTS)
    agent = pool.agent(
        "dns",
        {
            "WECOM_OTEL_GATEWAY_DNS_NAME": GATEWAY_DNS_NAME,
            "WECOM_OTEL_GATEWAY_PORT": str(pool.otlp_port),
            "WECOM_OTEL_GATEWAY_DNS_INTERVAL": "1s",
        },
        wrap=lambda argv: with_hosts_file(hosts, argv),
    )
    app = pool.app("dns-failover", agent)
    try:
        # Each balancer starts from the resolved list: both gateways.
        assert poll(agent.ring_updates, lambda n: n >= balancers(), timeout=20) == balancers()
        app.request(traces=30, error_every=2)
        before = {**app.result()["traces"], app.setup_trace: 2}
        found = pool.settled(app.service)
        assert_whole(found, before)
        assert set(by_gateway(found)) == set(GATEWAYS), (
            "the resolved name did not give both gateways"
        )

        pool.gateways["gateway-b"].kill()
        write_hosts(hosts, GATEWAY_DNS_NAME, GATEWAY_HOSTS[:1])
        # Go re-reads /etc/hosts at most every 5 s; the resolvers ask every second. Every balancer
        # must have dropped the dead gateway before the next orders are sent.
        updated = poll(agent.ring_updates, lambda n: n >= 2 * balancers(), timeout=30)
        assert updated == 2 * balancers(), agent.process.tail()
        app.request(traces=30, error_every=2)
        after = app.result()
        made = {**before, **after["traces"]}
        errors = set(after["errors"])
        found = pool.wait_for_whole(app.service, made, errors)
        assert errors <= set(found), "error traces sent after the dead gateway left DNS were lost"
        assert_whole(found, made)
        moved = {t: spans for t, spans in found.items() if t in after["traces"]}
        assert set(by_gateway(moved)) == {"gateway-a"}
    finally:
        app.close()
        write_hosts(hosts, GATEWAY_DNS_NAME, GATEWAY_HOSTS)
        pool.restore("gateway-b")
