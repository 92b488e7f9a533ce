"""The bundled configs checked by the real tools: otelcol validate, Jaeger validate, promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from opentelemetry.instrumentation.wecom.stack.ports import StackPorts
from opentelemetry.instrumentation.wecom.stack.render import prometheus_config
from tests.collector.binaries import require_binaries

BUNDLE = bundle_dir()


def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=120, check=False
    )


def test_collector_has_every_component_the_config_uses() -> None:
    binaries = require_binaries()
    result = run(binaries.collector, "components")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((BUNDLE / "otelcol-config.yaml").read_text(encoding="utf-8"))
    used = {
        component_id.split("/", 1)[0]
        for kind in ("receivers", "processors", "exporters", "connectors", "extensions")
        for component_id in config[kind]
    }
    assert {"otlp", "transform", "tail_sampling", "filter", "file", "span_metrics"} <= used
    for name in sorted(used):
        assert f"name: {name}\n" in result.stdout, name


def test_otelcol_validate_accepts_the_bundled_config() -> None:
    binaries = require_binaries()
    result = run(binaries.collector, "validate", f"--config=file:{BUNDLE / 'otelcol-config.yaml'}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_jaeger_validate_accepts_the_bundled_config() -> None:
    binaries = require_binaries()
    config = BUNDLE / "jaeger" / "jaeger-config.yaml"
    result = run(binaries.jaeger, "validate", f"--config=file:{config}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_checks_config_and_rules() -> None:
    binaries = require_binaries()
    prometheus_dir = BUNDLE / "prometheus"
    for config in ("prometheus.yml", "prometheus.docker.yml"):
        result = run(binaries.promtool, "check", "config", prometheus_dir / config)
        assert result.returncode == 0, result.stdout + result.stderr
    rules = sorted((prometheus_dir / "rules").glob("*.yml"))
    assert rules
    result = run(binaries.promtool, "check", "rules", *rules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests_pass() -> None:
    binaries = require_binaries()
    tests = sorted((BUNDLE / "prometheus" / "tests").glob("*.yml"))
    assert tests
    result = run(binaries.promtool, "test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    import yaml

    alerts = set()
    for path in (BUNDLE / "prometheus" / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            alerts |= {r["alert"] for r in group["rules"] if "alert" in r}
    fired, quiet = set(), set()
    for path in (BUNDLE / "prometheus" / "tests").glob("*.yml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts - fired == set(), "alerts without a firing test"
    assert alerts - quiet == set(), "alerts without a quiet test"


def test_rendered_prometheus_config_is_valid(tmp_path: Path) -> None:
    binaries = require_binaries()
    ports = StackPorts.ephemeral()
    rendered = tmp_path / "prometheus.yml"
    rendered.write_text(
        prometheus_config(BUNDLE / "prometheus" / "prometheus.yml", ports, None, "1s"),
        encoding="utf-8",
    )
    result = run(binaries.promtool, "check", "config", rendered)
    assert result.returncode == 0, result.stdout + result.stderr
    text = rendered.read_text(encoding="utf-8")
    assert f"127.0.0.1:{ports.collector_prometheus}" in text
    assert "127.0.0.1:8889" not in text or ports.collector_prometheus == 8889
    assert str(BUNDLE / "prometheus" / "rules") in text


@pytest.mark.parametrize("name", ["otelcol-config.yaml", "jaeger/jaeger-config.yaml"])
def test_every_listener_comes_from_an_environment_variable(name: str) -> None:
    import yaml

    def endpoints(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [str(v) for k, v in node.items() if k in ("endpoint", "directory", "host")]
            return found + [e for v in node.values() for e in endpoints(v)]
        if isinstance(node, list):
            return [e for v in node for e in endpoints(v)]
        return []

    document = yaml.safe_load((BUNDLE / name).read_text(encoding="utf-8"))
    values = endpoints(document)
    assert values
    assert all(v.startswith("${env:") for v in values), values
