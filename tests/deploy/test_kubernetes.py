"""deploy/kubernetes: rendered by kustomize, valid against the Kubernetes and Prometheus Operator
schemas (kubeconform, strict), and built from the bundle's own files.

kustomize, kubeconform and the JSON schemas are provisioned by ``scripts/k8s_tools.py``
(``make provision``); the schemas come from the Kubernetes OpenAPI spec and the Prometheus
Operator CRDs, not from a download.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests._support import missing, script
from tests.collector.binaries import require_binaries

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
COLLECTOR = ROOT / "collector"
KUSTOMIZATIONS = ["base", *(f"overlays/{p.name}" for p in sorted((DEPLOY / "overlays").iterdir()))]
Objects = list[dict[str, Any]]


k8s_tools = script("k8s_tools")
generate_prometheusrule = script("generate_prometheusrule")


@pytest.fixture(scope="module")
def tools() -> Any:
    found, absent = k8s_tools.find_tools()
    if absent:
        missing(
            f"kustomize/kubeconform/schemas missing ({', '.join(absent)}); run `make provision`"
        )
    return found


def kustomize(tools: Any, kustomization: str) -> str:
    result = subprocess.run(
        [str(tools.kustomize), "build", str(DEPLOY / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def kubeconform(
    tools: Any, *files: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """kubeconform, strict, on ``files`` (``-`` reads ``stdin``; flags first); JSON output."""
    return subprocess.run(
        [
            str(tools.kubeconform),
            "-strict",
            "-summary",
            "-output=json",
            f"-schema-location={tools.schema_location()}",
            *files,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered(tools: Any) -> dict[str, str]:
    return {kustomization: kustomize(tools, kustomization) for kustomization in KUSTOMIZATIONS}


@pytest.fixture(scope="module")
def base(rendered: dict[str, str]) -> Objects:
    return list(yaml.safe_load_all(rendered["base"]))


def one(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


# Read by the Go runtime of the binary, not by its configuration.
GO_RUNTIME_VARIABLES = {"GOMEMLIMIT"}


def containers(objects: Objects) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "DaemonSet", "StatefulSet"):
            pod = obj["spec"]["template"]["spec"]
            for container in pod["containers"]:
                yield pod, container


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


@pytest.fixture(scope="module")
def verdicts(tools: Any, rendered: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """kubeconform's verdict on every rendered object, all kustomizations in one run."""
    directory = tmp_path_factory.mktemp("rendered")
    files = []
    for kustomization, text in rendered.items():
        path = directory / (kustomization.replace("/", "-") + ".yaml")
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    result = kubeconform(tools, "-verbose", *files)
    return json.loads(result.stdout), result.returncode


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_kubeconform_accepts_every_rendered_object(
    verdicts: Any, rendered: dict[str, str], kustomization: str
) -> None:
    output, _ = verdicts
    mine = [
        r
        for r in output["resources"]
        if Path(r["filename"]).name == kustomization.replace("/", "-") + ".yaml"
    ]
    objects = list(yaml.safe_load_all(rendered[kustomization]))
    assert len(mine) == len(objects) > 0
    failed = [
        f"{r['kind']}/{r['name']}: {r['status']} {r['msg']}"
        for r in mine
        if r["status"] != "statusValid"
    ]
    assert failed == []


def test_kubeconform_rejects_an_unknown_field_and_a_wrong_type(tools: Any, base: Objects) -> None:
    """The schemas are strict and really used: a typo or a wrong type fails the build."""
    agent = one(base, "DaemonSet", "wecom-otel-agent")
    broken = json.loads(json.dumps(agent))
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    rule = json.loads(json.dumps(one(base, "PrometheusRule", "wecom-otel-alerts")))
    rule["spec"]["groups"][0]["rules"][0]["for"] = 120
    result = kubeconform(tools, "-", stdin=yaml.safe_dump_all([broken, rule]))
    assert result.returncode != 0
    assert "imagePullPolicyy" in result.stdout
    assert json.loads(result.stdout)["summary"]["invalid"] == 2


def test_configmaps_hold_the_bundle_files_unchanged(base: Objects) -> None:
    generator = yaml.safe_load((COLLECTOR / "kustomization.yaml").read_text(encoding="utf-8"))
    for spec in generator["configMapGenerator"]:
        (config_map,) = [
            o
            for o in base
            if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(spec["name"] + "-")
        ]
        for entry in spec["files"]:
            key, _, path = entry.partition("=")
            source = COLLECTOR / (path or key)
            assert config_map["data"][Path(key).name] == source.read_text(encoding="utf-8"), entry


def test_every_workload_mounts_a_rendered_configmap_and_reads_files_in_it(base: Objects) -> None:
    config_maps = {o["metadata"]["name"]: o for o in base if o["kind"] == "ConfigMap"}
    for pod, container in containers(base):
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
        conf = mounts["/conf"]["configMap"]["name"]
        assert conf in config_maps, f"{container['name']} mounts a missing ConfigMap {conf}"
        for arg in container["args"]:
            assert arg.startswith("--config=file:/conf/")
            assert arg.removeprefix("--config=file:/conf/") in config_maps[conf]["data"], arg


def test_every_workload_variable_is_read_by_its_configs(base: Objects) -> None:
    config_maps = {o["metadata"]["name"]: o for o in base if o["kind"] == "ConfigMap"}
    for pod, container in containers(base):
        volumes = {v["name"]: v for v in pod["volumes"]}
        (conf,) = [
            volumes[m["name"]] for m in container["volumeMounts"] if m["mountPath"] == "/conf"
        ]
        text = "\n".join(config_maps[conf["configMap"]["name"]]["data"].values())
        for name in env(container).keys() - GO_RUNTIME_VARIABLES:
            assert f"${{env:{name}" in text, f"{container['name']}: {name} is read by no config"


def test_each_collector_gives_the_go_runtime_a_soft_limit_at_80_percent_of_its_memory(
    base: Objects,
) -> None:
    collectors = [c for _, c in containers(base) if "WECOM_OTEL_MEMORY_LIMIT_PERCENT" in env(c)]
    assert len(collectors) == 2
    for container in collectors:
        limit = container["resources"]["limits"]["memory"]
        limit_mib = (
            int(limit.removesuffix("Gi")) * 1024
            if limit.endswith("Gi")
            else int(limit.removesuffix("Mi"))
        )
        assert env(container)["GOMEMLIMIT"] == f"{limit_mib * 8 // 10}MiB", container["name"]


def test_agents_resolve_the_headless_service_of_the_gateway_pods(base: Objects) -> None:
    (_, agent) = next(
        (p, c) for p, c in containers(base) if c["name"] == "otelcol" and "agent" in c["args"][0]
    )
    assert agent["args"][1] == "--config=file:/conf/resolver-k8s.yaml"
    service = one(base, "Service", env(agent)["WECOM_OTEL_GATEWAY_SERVICE"])
    assert service["spec"]["clusterIP"] == "None"
    gateway = one(base, "Deployment", "wecom-otel-gateway")
    pod_labels = gateway["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert str(ports["otlp-grpc"]) == env(agent)["WECOM_OTEL_GATEWAY_PORT"]
    # The k8s resolver watches EndpointSlices: the agent's ServiceAccount may do exactly that.
    daemonset = one(base, "DaemonSet", "wecom-otel-agent")
    account = daemonset["spec"]["template"]["spec"]["serviceAccountName"]
    binding = one(base, "RoleBinding", "wecom-otel-agent-endpointslices")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": "observability"}
    ]
    role = one(base, "Role", binding["roleRef"]["name"])
    assert role["rules"] == [
        {
            "apiGroups": ["discovery.k8s.io"],
            "resources": ["endpointslices"],
            "verbs": ["get", "list", "watch"],
        }
    ]


def test_the_dns_overlay_resolves_through_dns_and_needs_no_rbac(rendered: dict[str, str]) -> None:
    objects = list(yaml.safe_load_all(rendered["overlays/dns-resolver"]))
    agent = one(objects, "DaemonSet", "wecom-otel-agent")["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert agent["args"][1] == "--config=file:/conf/resolver-dns.yaml"
    name = env(agent)["WECOM_OTEL_GATEWAY_DNS_NAME"]
    assert name.startswith("wecom-otel-gateway-headless.observability.svc")
    assert not [o for o in objects if o["kind"] in ("Role", "RoleBinding")]


def test_autoscaler_and_disruption_budget_cover_the_gateway_pool(base: Objects) -> None:
    gateway = one(base, "Deployment", "wecom-otel-gateway")
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    hpa = one(base, "HorizontalPodAutoscaler", "wecom-otel-gateway")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "wecom-otel-gateway",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    pdb = one(base, "PodDisruptionBudget", "wecom-otel-gateway")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1


def test_service_monitors_scrape_named_ports_and_keep_app_labels(base: Objects) -> None:
    services = [o for o in base if o["kind"] == "Service"]
    for monitor in (o for o in base if o["kind"] == "ServiceMonitor"):
        selector = monitor["spec"]["selector"]["matchLabels"]
        ports = {
            p["name"]
            for s in services
            if selector.items() <= s["metadata"].get("labels", {}).items()
            for p in s["spec"]["ports"]
        }
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in ports, (
                f"{monitor['metadata']['name']}: no port {endpoint['port']}"
            )
    gateway = one(base, "ServiceMonitor", "wecom-otel-gateway")
    (exporter,) = [e for e in gateway["spec"]["endpoints"] if e["port"] == "prometheus"]
    assert exporter["honorLabels"] is True, "job/instance must stay the app's"


def test_prometheusrule_file_is_what_the_generator_writes() -> None:
    committed = (DEPLOY / "base" / "prometheusrule.yaml").read_text(encoding="utf-8")
    assert committed == generate_prometheusrule.render(), (
        "base/prometheusrule.yaml is stale: run scripts/generate_prometheusrule.py"
    )


def test_prometheusrules_carry_the_rule_files_groups_unchanged(base: Objects) -> None:
    rules = {o["metadata"]["name"]: o for o in base if o["kind"] == "PrometheusRule"}
    files = sorted((COLLECTOR / "prometheus" / "rules").glob("*.yml"))
    assert len(rules) == len(files)
    for path in files:
        groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        assert rules[f"wecom-otel-{path.stem.removeprefix('wecom-')}"]["spec"]["groups"] == groups


def test_the_generator_follows_a_changed_rule_file(tmp_path: Path) -> None:
    source = COLLECTOR / "prometheus" / "rules" / "wecom-alerts.yml"
    (tmp_path / "wecom-alerts.yml").write_text(
        source.read_text(encoding="utf-8").replace("for: 2m", "for: 7m", 1), encoding="utf-8"
    )
    rendered = generate_prometheusrule.render(tmp_path)
    assert "for: 7m" in rendered
    assert rendered != generate_prometheusrule.render()


def test_images_are_the_versions_the_bundle_pins(base: Objects) -> None:
    compose = yaml.safe_load((COLLECTOR / "docker-compose.yaml").read_text(encoding="utf-8"))
    pinned = {service["image"] for service in compose["services"].values()}
    images = {container["image"] for _, container in containers(base)}
    assert images <= pinned, images - pinned


def test_jaeger_validate_accepts_the_production_storage_config() -> None:
    jaeger = require_binaries().jaeger
    config = COLLECTOR / "jaeger" / "jaeger-elasticsearch.yaml"
    result = subprocess.run(
        [str(jaeger), "validate", f"--config=file:{config}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    bad = subprocess.run(
        [str(jaeger), "validate", f"--config=file:{config}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"JAEGER_ES_SERVER_URLS": "[not a url]"},
    )
    assert bad.returncode != 0
    assert "does not validate as url" in bad.stdout + bad.stderr
