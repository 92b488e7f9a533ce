#!/usr/bin/env python3
"""Provision what the Kubernetes manifest tests need, offline: kustomize, kubeconform, schemas.

- ``kustomize`` and ``kubeconform`` are ``go install``-ed at pinned versions into
  ``$WECOM_OTEL_CACHE/bin`` (default ``~/.cache/wecom-otel/bin``), once.
- kubeconform validates each object against one JSON schema per kind. Its default source
  (yannh/kubernetes-json-schema) is a download this machine cannot make, so the schemas are
  made here from sources the Go module proxy serves: the Kubernetes OpenAPI v2 spec in the
  ``k8s.io/kubernetes`` module (``api/openapi-spec/swagger.json``) and the Prometheus
  Operator CRDs in its module (``example/prometheus-operator-crd/*.yaml``). They are written
  as kubeconform expects them, ``<kind>-<group>-<version>.json``, "strict" (an unknown field is
  an error) with ``$ref``s into one ``_definitions.json``.

Run ``python scripts/k8s_tools.py`` (``make provision`` does); it prints where everything is.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from opentelemetry.instrumentation.wecom.stack.build import BuildError, go_install, go_module_dir
from opentelemetry.instrumentation.wecom.stack.paths import cache_dir

KUSTOMIZE = ("sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1", "kustomize")
KUBECONFORM = ("github.com/yannh/kubeconform/cmd/kubeconform", "v0.8.0", "kubeconform")
KUBERNETES = ("k8s.io/kubernetes", "v1.34.2")
PROMETHEUS_OPERATOR = ("github.com/prometheus-operator/prometheus-operator", "v0.85.0")
CRD_FILES = (
    "monitoring.coreos.com_prometheusrules.yaml",
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheuses.yaml",
)
DEFINITIONS = "_definitions.json"
# The file name template kubeconform's -schema-location takes for a directory of these schemas.
LOCATION_TEMPLATE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"


@dataclass(frozen=True)
class Tools:
    kustomize: Path
    kubeconform: Path
    schemas: Path

    def schema_location(self) -> str:
        return f"{self.schemas}/{LOCATION_TEMPLATE}"


def tool_paths(cache: Path | None = None) -> Tools:
    cache = cache or cache_dir()
    return Tools(
        cache / "bin" / f"kustomize-{KUSTOMIZE[1]}",
        cache / "bin" / f"kubeconform-{KUBECONFORM[1]}",
        cache
        / "kubeconform-schemas"
        / f"kubernetes-{KUBERNETES[1]}-prometheus-operator-{PROMETHEUS_OPERATOR[1]}",
    )


def kind_suffix(group: str, version: str) -> str:
    """kubeconform's ``KindSuffix``: ``-v1``, ``-apps-v1``, ``-rbac-v1``, ``-monitoring-v1``."""
    return f"-{group.split('.', maxsplit=1)[0].lower()}-{version}" if group else f"-{version}"


_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("additionalProperties", "items", "not")


def _strict(schema: Any) -> Any:
    """A copy that rejects unknown fields and takes both spellings of int-or-string.

    Only schema keywords are rewritten; the names inside ``properties`` are data (the CRD
    schema type has properties called ``oneOf`` and ``x-kubernetes-int-or-string``).
    """
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _strict(sub) for name, sub in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_strict(sub) for sub in out[key]]
    for key in _SCHEMA_VALUES:
        value = out.get(key)
        out[key] = [_strict(v) for v in value] if isinstance(value, list) else _strict(value)
        if value is None:
            del out[key]
    if out.get("format") == "int-or-string" or out.pop("x-kubernetes-int-or-string", False):
        for key in ("type", "format", "anyOf"):
            out.pop(key, None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    preserve = out.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _document(kind: str, group: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
    api_version = f"{group}/{version}" if group else version
    identity = {
        "properties": {"kind": {"enum": [kind]}, "apiVersion": {"enum": [api_version]}},
        "required": ["kind", "apiVersion"],
    }
    return {"$schema": "http://json-schema.org/draft-04/schema#", "allOf": [body, identity]}


def kubernetes_schemas(swagger: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    definitions = json.loads(swagger.read_text(encoding="utf-8"))["definitions"]
    quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    shared = {name: _strict(schema) for name, schema in definitions.items()}  # refs stay local
    shared[quantity] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
    yield DEFINITIONS, {"definitions": shared}
    for name, schema in definitions.items():
        kinds = schema.get("x-kubernetes-group-version-kind") or []
        if len(kinds) != 1:  # none: not a top-level object; several: meta types (DeleteOptions ...)
            continue
        gvk = kinds[0]
        body = {"$ref": f"{DEFINITIONS}#/definitions/{name}"}
        yield (
            f"{gvk['kind'].lower()}{kind_suffix(gvk['group'], gvk['version'])}.json",
            _document(gvk["kind"], gvk["group"], gvk["version"], body),
        )


def crd_schemas(crd_file: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    crd = yaml.safe_load(crd_file.read_text(encoding="utf-8"))
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    for version in crd["spec"]["versions"]:
        body = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
        # metadata is the API server's ObjectMeta; a CRD schema only says "object".
        body.setdefault("properties", {})["metadata"] = {
            "$ref": f"{DEFINITIONS}#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        }
        yield (
            f"{kind.lower()}{kind_suffix(group, version['name'])}.json",
            _document(kind, group, version["name"], body),
        )


def build_schemas(target: Path) -> Path:
    if (target / DEFINITIONS).exists():
        return target
    kubernetes = go_module_dir(*KUBERNETES) / "api" / "openapi-spec" / "swagger.json"
    operator = go_module_dir(*PROMETHEUS_OPERATOR) / "example" / "prometheus-operator-crd"
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    documents = list(kubernetes_schemas(kubernetes))
    for name in CRD_FILES:
        documents.extend(crd_schemas(operator / name))
    for name, document in documents:
        (partial / name).write_text(json.dumps(document), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return target


def ensure_tools(cache: Path | None = None) -> Tools:
    paths = tool_paths(cache)
    logs = (cache or cache_dir()) / "logs"
    go_install(*KUSTOMIZE, paths.kustomize, logs / f"go-install-{paths.kustomize.name}.log")
    go_install(*KUBECONFORM, paths.kubeconform, logs / f"go-install-{paths.kubeconform.name}.log")
    build_schemas(paths.schemas)
    return paths


def find_tools(cache: Path | None = None) -> tuple[Tools, list[str]]:
    """The provisioned tools, and what of them is missing (nothing is built)."""
    paths = tool_paths(cache)
    absent = [
        str(p)
        for p in (paths.kustomize, paths.kubeconform, paths.schemas / DEFINITIONS)
        if not p.exists()
    ]
    return paths, absent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.parse_args(argv)
    try:
        tools = ensure_tools()
    except BuildError as error:
        print(f"k8s_tools: {error}", file=sys.stderr)
        return 1
    print(f"kustomize    {tools.kustomize}")
    print(f"kubeconform  {tools.kubeconform}")
    print(f"schemas      {tools.schemas}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
