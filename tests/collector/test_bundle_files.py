"""Structure of the files no tool here can run: docker-compose.yaml and the Grafana bundle."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir

BUNDLE = bundle_dir()
DASHBOARDS = sorted((BUNDLE / "grafana" / "dashboards").glob("*.json"))


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(BUNDLE / "docker-compose.yaml")
    return document


def test_compose_pins_every_image(compose: dict[str, Any]) -> None:
    images = {name: service["image"] for name, service in compose["services"].items()}
    assert {"otelcol", "jaeger", "prometheus", "grafana"} <= set(images)
    for name, image in images.items():
        repository, _, tag = image.rpartition(":")
        assert repository, image
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {image} is not pinned"
    assert images["otelcol"].startswith("otel/opentelemetry-collector-contrib:")
    assert images["jaeger"].startswith("jaegertracing/jaeger:2.")
    assert images["prometheus"].startswith("prom/prometheus:")
    assert images["grafana"].startswith("grafana/grafana:")


def test_compose_collector_version_matches_the_builder_manifest(compose: dict[str, Any]) -> None:
    manifest = (BUNDLE / "builder-config.yaml").read_text(encoding="utf-8")
    version = compose["services"]["otelcol"]["image"].rpartition(":")[2]
    assert f"go.opentelemetry.io/collector/service v{version}" in manifest


def test_compose_mounts_existing_bundle_files(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source in named:
                continue
            assert (BUNDLE / source).exists(), f"{name}: {source} does not exist"


def test_compose_collector_listens_on_all_interfaces(compose: dict[str, Any]) -> None:
    env = compose["services"]["otelcol"]["environment"]
    config = (BUNDLE / "otelcol-config.yaml").read_text(encoding="utf-8")
    for variable, value in env.items():
        assert f"${{env:{variable}" in config, f"{variable} is not read by otelcol-config.yaml"
        if variable.endswith("_ENDPOINT") and "JAEGER" not in variable and "CHECK" not in variable:
            assert str(value).startswith("0.0.0.0:"), variable
    assert (
        env["WECOM_OTEL_JAEGER_OTLP_ENDPOINT"]
        == "jaeger:"
        + str(compose["services"]["jaeger"]["environment"]["JAEGER_OTLP_GRPC_ENDPOINT"]).rpartition(
            ":"
        )[2]
    )
    for variable in compose["services"]["jaeger"]["environment"]:
        jaeger = (BUNDLE / "jaeger" / "jaeger-config.yaml").read_text(encoding="utf-8")
        assert f"${{env:{variable}" in jaeger, f"{variable} is not read by jaeger-config.yaml"


def test_compose_dependencies_exist(compose: dict[str, Any]) -> None:
    services = set(compose["services"])
    for name, service in compose["services"].items():
        assert set(service.get("depends_on") or []) <= services, name


def test_grafana_provisioning_is_consistent() -> None:
    datasources = load_yaml(BUNDLE / "grafana/provisioning/datasources/wecom.yaml")["datasources"]
    uids = {d["uid"]: d["type"] for d in datasources}
    assert uids == {"wecom-prometheus": "prometheus", "wecom-jaeger": "jaeger"}
    providers = load_yaml(BUNDLE / "grafana/provisioning/dashboards/wecom.yaml")["providers"]
    compose = load_yaml(BUNDLE / "docker-compose.yaml")
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(m.endswith(providers[0]["options"]["path"] + ":ro") for m in mounts)


def panel_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", []) if "expr" in t]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_json_is_valid_and_complete(path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "wecom-prometheus", panel["title"]
        assert panel["targets"], panel["title"]
    exprs = "\n".join(panel_exprs(dashboard))
    for needle in (
        "wecom_api:error_ratio:rate5m",  # error ratio by API
        "wecom_errcode",  # by errcode
        "histogram_quantile(0.99",  # latency percentiles
        "topk(10",  # top errcodes
        "wecom_token_refreshes_total",  # token refreshes by outcome and reason
        "wecom_client_retries_total",  # retries by API and reason
        "wecom_message_discarded_total",  # silent discards
        "wecom_agent:person_times_budget:ratio",  # daily budget used
        "wecom_agent:person_times:predicted4h",  # capacity forecast
        "45009|45033",  # rate-limit hits
        "traces_span_metrics_calls_total",
        "wecom_callback_duration_seconds_count",  # callbacks by event and outcome
        "wecom_callback_duration_seconds_bucket",  # callback answer time
        "wecom_callback:late:increase10m",  # callbacks answered after WeCom's deadline
        "wecom_message_callback_delay_seconds_bucket",  # send-to-click time
    ):
        assert needle in exprs, needle
    text = path.read_text(encoding="utf-8")
    assert "${jaeger_url}/search?" in text, "no link from panels to Jaeger traces"
    assert '"42001 access_token expired' in text, "errcodes have no meanings"
