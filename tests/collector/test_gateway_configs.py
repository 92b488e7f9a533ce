"""collector/gateway/: the agent with each resolver; the gateway layered on the bundled config."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from tests.collector.binaries import require_binaries

GATEWAY_DIR = bundle_dir() / "gateway"
RESOLVERS = sorted(p.stem.removeprefix("resolver-") for p in GATEWAY_DIR.glob("resolver-*.yaml"))


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def validate(*configs: Path) -> subprocess.CompletedProcess[str]:
    collector = require_binaries().collector
    argv = [str(collector), "validate", *(f"--config=file:{c}" for c in configs)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_the_three_resolvers_are_documented() -> None:
    assert RESOLVERS == ["dns", "k8s", "static"]


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_otelcol_validate_accepts_the_agent_with_each_resolver(resolver: str) -> None:
    result = validate(GATEWAY_DIR / "agent.yaml", GATEWAY_DIR / f"resolver-{resolver}.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_agent_alone_names_no_resolver() -> None:
    """Exactly one resolver file completes it (the exporter refuses none and several)."""
    result = validate(GATEWAY_DIR / "agent.yaml")
    assert result.returncode != 0
    assert "no resolvers specified" in result.stdout + result.stderr


def test_otelcol_validate_accepts_the_gateway_layered_on_the_bundled_config() -> None:
    result = validate(bundle_dir() / "otelcol-config.yaml", GATEWAY_DIR / "gateway.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_each_resolver_file_sets_every_load_balancing_exporter(resolver: str) -> None:
    agent = load(GATEWAY_DIR / "agent.yaml")
    balancers = {name for name in agent["exporters"] if name.split("/")[0] == "load_balancing"}
    overlay = load(GATEWAY_DIR / f"resolver-{resolver}.yaml")
    assert set(overlay) == {"exporters"}
    assert set(overlay["exporters"]) == balancers
    for settings in overlay["exporters"].values():
        assert list(settings) == ["resolver"]
        assert list(settings["resolver"]) == [resolver]


def test_the_agent_keeps_no_trace_state_and_routes_traces_by_trace_id() -> None:
    agent = load(GATEWAY_DIR / "agent.yaml")
    assert not {"tail_sampling", "span_metrics"} & {
        name.split("/")[0]
        for section in ("processors", "connectors")
        for name in agent.get(section) or {}
    }
    assert agent["exporters"]["load_balancing"]["routing_key"] == "traceID"
    pipelines = agent["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["load_balancing"]
    for pipeline in pipelines.values():
        assert pipeline["processors"][0] == "memory_limiter"
        assert "transform/scrub_secrets" in pipeline["processors"]


def test_the_gateway_adds_its_name_after_sampling_only() -> None:
    """Each exporting trace pipeline of the bundle, unchanged, then the gateway's name."""
    single = load(bundle_dir() / "otelcol-config.yaml")
    gateway = load(GATEWAY_DIR / "gateway.yaml")
    for name in ("traces/sampled", "traces/errors"):
        assert gateway["service"]["pipelines"][name]["processors"] == [
            *single["service"]["pipelines"][name]["processors"],
            "transform/gateway_name",
        ]
    assert set(gateway["service"]["pipelines"]) == {"traces/sampled", "traces/errors"}, (
        "the rest is the bundle's"
    )


@pytest.mark.parametrize("name", ["agent.yaml", *(f"resolver-{r}.yaml" for r in RESOLVERS)])
def test_every_agent_setting_that_varies_comes_from_an_environment_variable(name: str) -> None:
    def values(node: object, key: str = "") -> list[tuple[str, object]]:
        if isinstance(node, dict):
            return [item for k, v in node.items() for item in values(v, str(k))]
        if isinstance(node, list):
            return [item for v in node for item in values(v, key)]
        return [(key, node)]

    for key, value in values(load(GATEWAY_DIR / name)):
        if key in (
            "endpoint",
            "directory",
            "host",
            "port",
            "hostname",
            "hostnames",
            "service",
            "ports",
        ):
            assert str(value).startswith("${env:"), f"{name}: {key}={value}"
