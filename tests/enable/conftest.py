"""Fixtures for enable() tests: OTLP receivers, the WeCom mock, and a child-process runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._support import require

CHILD_APP = Path(__file__).with_name("child_app.py")
CHILD_TIMEOUT_S = 60


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without any OTEL_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(extra)
    return env


@pytest.fixture
def wecom(wecom_mock: Any) -> Any:
    """The package's own ``wecom_mock`` fixture (pytest plugin), under a shorter name."""
    return wecom_mock


def _receiver(kind: str) -> Any:
    try:
        from . import otlp_receivers
    except ImportError as error:
        require(False, f"grpcio and opentelemetry-proto are needed: {error}")
    return (
        otlp_receivers.OtlpGrpcReceiver() if kind == "grpc" else otlp_receivers.OtlpHttpReceiver()
    )


@pytest.fixture
def http_receiver() -> Iterator[Any]:
    with _receiver("http") as receiver:
        yield receiver


@pytest.fixture
def grpc_receiver() -> Iterator[Any]:
    with _receiver("grpc") as receiver:
        yield receiver


@pytest.fixture
def receivers(http_receiver: Any, grpc_receiver: Any) -> dict[str, Any]:
    """Both receivers, by protocol name."""
    return {"http/protobuf": http_receiver, "grpc": grpc_receiver}


@dataclass
class ChildResult:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any]
    exited_at: float

    @property
    def exit_duration_s(self) -> float:
        """From the end of the app's main() to the process being gone (atexit flush included)."""
        return self.exited_at - float(self.report["main_ended_at"])


@pytest.fixture
def run_child(wecom: Any, tmp_path: Path) -> Any:
    """Run child_app.py with ``options`` and ``env`` (on top of a clean environment)."""

    def run(options: Mapping[str, Any], env: Mapping[str, str] = {}) -> ChildResult:
        report_path = tmp_path / "report.json"
        child_env = clean_env(
            WECOM_HOST=wecom.host,
            WECOM_API_BASE=wecom.api_base_url,
            WECOM_CORP_ID=wecom.corp_id,
            WECOM_CORP_SECRET=wecom.corp_secret,
            CHILD_REPORT=str(report_path),
            **env,
        )
        completed = subprocess.run(
            [sys.executable, str(CHILD_APP), json.dumps(options)],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        exited_at = time.time()
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        return ChildResult(
            completed.returncode, completed.stdout, completed.stderr, report, exited_at
        )

    return run
