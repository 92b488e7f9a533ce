"""What the figures were taken on: CPU, cores, Python, package versions, commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Final

PACKAGES: Final = (
    "opentelemetry-instrumentation-wecom",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation",
    "opentelemetry-instrumentation-httpx",
    "opentelemetry-instrumentation-requests",
    "opentelemetry-instrumentation-aiohttp-client",
    "httpx",
    "httpcore",
    "h11",
    "requests",
    "urllib3",
    "aiohttp",
    "flask",
    "werkzeug",
    "starlette",
    "wrapt",
)


def describe() -> dict[str, str]:
    info = {
        "cpu": _cpu_model(),
        "cores (nproc)": str(
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "commit": _commit(),
    }
    for package in PACKAGES:
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    return info


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine adds noise."""
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " / ".join(f"{load:.2f}" for load in os.getloadavg())


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    """The commit measured, flagged when the instrumentation's sources differ from it."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--", "src"):
        commit += " (with uncommitted changes in src/)"
    return commit


def _git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()
