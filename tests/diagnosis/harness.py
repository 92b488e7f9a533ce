"""Running incident scenarios against a real stack and waiting until the backends hold them.

Shared by the end-to-end tests (tests/e2e/test_diagnose.py) and the recorder of the unit
tests' fixtures (tests/diagnosis/record.py). Each scenario is a child process
(tests/diagnosis/scenario_app.py) with its own ``service.name``; they run concurrently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from tests._support import poll

ROOT = Path(__file__).parents[2]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
#: Seconds of healthy traffic (the baseline) and of the fault.
HEALTHY_SECONDS = 8.0
FAULT_SECONDS = 10.0
#: The window a scenario is diagnosed over starts this long before the fault.
LEAD_SECONDS = 2.0


@dataclass(frozen=True)
class Run:
    """What a scenario child reported: its service, when the fault started and ended."""

    scenario: str
    service: str
    fault_start: float
    fault_end: float
    ended: float

    @property
    def window(self) -> tuple[float, float]:
        return self.fault_start - LEAD_SECONDS, self.ended + 1.0


def run_scenario(scenario: str, service: str, otlp: str, **options: float) -> Run:
    """Run one scenario child to its end; raise with its output when it fails."""
    argv = [
        sys.executable,
        "-m",
        "tests.diagnosis.scenario_app",
        "--scenario",
        scenario,
        "--service",
        service,
        "--otlp",
        otlp,
        "--healthy",
        str(options.get("healthy", HEALTHY_SECONDS)),
        "--fault",
        str(options.get("fault", FAULT_SECONDS)),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"scenario {scenario} exited {done.returncode}: {done.stderr[-2000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(scenario, service, record["fault_start"], record["fault_end"], time.time())


def run_scenarios(scenarios: Sequence[tuple[str, str]], otlp: str) -> dict[str, Run]:
    """``[(scenario, service), ...]`` run concurrently; their runs by scenario."""
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        futures = {
            scenario: pool.submit(run_scenario, scenario, service, otlp)
            for scenario, service in scenarios
        }
        return {scenario: future.result() for scenario, future in futures.items()}


def get_json(url: str, params: Optional[dict[str, str]] = None) -> Any:
    if params:
        url = f"{url}?{urllib.parse.urlencode(params)}"
    with _NO_PROXY.open(url, timeout=10) as response:
        return json.load(response)


def scraped_after(prometheus: str, service: str, moment: float) -> bool:
    """Whether Prometheus scraped the service's call counts after ``moment`` (its last flush)."""
    query = f'max(timestamp(wecom_client_duration_seconds_count{{job="{service}"}}))'
    result = get_json(f"{prometheus}/api/v1/query", {"query": query})["data"]["result"]
    return bool(result) and float(result[0]["value"][1]) > moment + 0.5


def wait_for_metrics(prometheus: str, runs: Sequence[Run], timeout: float = 30.0) -> None:
    for run in runs:
        scraped = poll(
            lambda run=run: scraped_after(prometheus, run.service, run.ended), bool, timeout
        )
        if not scraped:
            raise TimeoutError(f"Prometheus never scraped {run.service} after its last export")
