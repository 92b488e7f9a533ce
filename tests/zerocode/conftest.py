"""Fixtures for the zero-code tests: the WeCom mock and ``opentelemetry-instrument`` runs."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._support import require

APP = Path(__file__).with_name("zerocode_app.py")
OPENTELEMETRY_INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")
TIMEOUT_S = 60


@pytest.fixture
def wecom(wecom_mock: Any) -> Any:
    """The package's own ``wecom_mock`` fixture (pytest plugin), under a shorter name."""
    return wecom_mock


def json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON documents the console exporters print one after another."""
    decoder, objects, position = json.JSONDecoder(), [], 0
    while text[position:].strip():
        position += len(text[position:]) - len(text[position:].lstrip())
        obj, position = decoder.raw_decode(text, position)
        objects.append(obj)
    return objects


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any]

    @property
    def spans(self) -> list[dict[str, Any]]:
        return [o for o in json_objects(self.stdout) if "context" in o]

    def wecom_spans(self) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in self.spans if s["name"].startswith("wecom ")}

    def histogram_points(self, name: str) -> list[dict[str, Any]]:
        return [
            point
            for o in json_objects(self.stdout)
            for rm in o.get("resource_metrics", ())
            for sm in rm["scope_metrics"]
            for metric in sm["metrics"]
            if metric["name"] == name
            for point in metric["data"]["data_points"]
        ]


@pytest.fixture
def stock_httpx_instrumentation() -> None:
    """Tests that look at the stock httpx spans need opentelemetry-instrumentation-httpx."""
    require(
        importlib.util.find_spec("opentelemetry.instrumentation.httpx"),
        "opentelemetry-instrumentation-httpx",
    )


@pytest.fixture
def instrument_run(wecom: Any, tmp_path: Path) -> Any:
    """Run ``opentelemetry-instrument python zerocode_app.py`` with console exporters."""
    require(OPENTELEMETRY_INSTRUMENT.exists(), f"{OPENTELEMETRY_INSTRUMENT} is missing")
    require(importlib.util.find_spec("opentelemetry.distro"), "opentelemetry-distro")

    def run(env: Mapping[str, str]) -> Run:
        report_path = tmp_path / "report.json"
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        child_env.update(
            OTEL_TRACES_EXPORTER="console",
            OTEL_METRICS_EXPORTER="console",
            OTEL_LOGS_EXPORTER="none",
            OTEL_SERVICE_NAME="zero-code",
            WECOM_API_BASE=wecom.api_base_url,
            WECOM_CORP_ID=wecom.corp_id,
            WECOM_CORP_SECRET=wecom.corp_secret,
            ZEROCODE_REPORT=str(report_path),
        )
        child_env.update(env)
        completed = subprocess.run(
            [str(OPENTELEMETRY_INSTRUMENT), sys.executable, str(APP)],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        return Run(completed.returncode, completed.stdout, completed.stderr, report)

    return run
