"""The per-process configuration of the local stack: environment and Prometheus config.

The collector and Jaeger read the bundled YAML unchanged; only environment variables
move their ports. Prometheus has no environment expansion, so a copy of the bundled
prometheus.yml is written with the stack's targets and absolute rule-file paths.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts

# The targets prometheus.yml names, by the StackPorts field that replaces each one.
_DEFAULT_TARGETS = {
    "collector_prometheus": f"{HOST}:8889",
    "collector_metrics": f"{HOST}:8888",
    "jaeger_metrics": f"{HOST}:14269",
    "prometheus": f"{HOST}:9090",
}
_DEFAULT_RULES = "rules/*.yml"


def collector_env(
    ports: StackPorts,
    storage_dir: Path,
    overrides: Optional[Mapping[str, str]] = None,
    *,
    call_log: Path,
) -> dict[str, str]:
    """The collector's variables; ``call_log`` is the rotating JSON-lines file of the logs."""
    env = {
        "WECOM_OTEL_OTLP_GRPC_ENDPOINT": f"{HOST}:{ports.otlp_grpc}",
        "WECOM_OTEL_OTLP_HTTP_ENDPOINT": f"{HOST}:{ports.otlp_http}",
        "WECOM_OTEL_HEALTH_ENDPOINT": f"{HOST}:{ports.collector_health}",
        "WECOM_OTEL_PROMETHEUS_ENDPOINT": f"{HOST}:{ports.collector_prometheus}",
        "WECOM_OTEL_METRICS_HOST": HOST,
        "WECOM_OTEL_METRICS_PORT": str(ports.collector_metrics),
        "WECOM_OTEL_JAEGER_OTLP_ENDPOINT": f"{HOST}:{ports.jaeger_otlp_grpc}",
        "WECOM_OTEL_STORAGE_DIR": str(storage_dir),
        "WECOM_OTEL_CALL_LOG_FILE": str(call_log),
    }
    env.update(overrides or {})
    soft_limit = go_memory_limit(env)
    if soft_limit is not None and "GOMEMLIMIT" not in os.environ:
        env.setdefault("GOMEMLIMIT", soft_limit)
    return env


def go_memory_limit(env: Mapping[str, str]) -> Optional[str]:
    """``GOMEMLIMIT`` for a collector given a fixed memory limit, else None.

    ``memory_limiter`` only looks at the heap once per ``check_interval``; between two looks a
    flood of refused requests (each one received and decoded before it is refused) is garbage
    that the Go runtime, left to ``GOGC`` alone, lets double the heap. A soft limit at 80 % of the
    fixed one (the collector's own advice) makes the runtime collect and return memory before
    the limiter's hard limit instead.
    """
    try:
        limit_mib = int(env.get("WECOM_OTEL_MEMORY_LIMIT_MIB", "0"))
    except ValueError:
        return None
    if limit_mib <= 0:
        return None
    return f"{limit_mib * 8 // 10}MiB"


def jaeger_env(ports: StackPorts, badger_dir: Path) -> dict[str, str]:
    """Jaeger's variables; ``badger_dir`` holds its trace storage (kept across restarts)."""
    return {
        "JAEGER_BADGER_DIR": str(badger_dir),
        "JAEGER_OTLP_GRPC_ENDPOINT": f"{HOST}:{ports.jaeger_otlp_grpc}",
        "JAEGER_OTLP_HTTP_ENDPOINT": f"{HOST}:{ports.jaeger_otlp_http}",
        "JAEGER_QUERY_HTTP_ENDPOINT": f"{HOST}:{ports.jaeger_ui}",
        "JAEGER_QUERY_GRPC_ENDPOINT": f"{HOST}:{ports.jaeger_grpc}",
        "JAEGER_HEALTH_ENDPOINT": f"{HOST}:{ports.jaeger_health}",
        "JAEGER_METRICS_HOST": HOST,
        "JAEGER_METRICS_PORT": str(ports.jaeger_metrics),
        "JAEGER_PROMETHEUS_URL": f"http://{HOST}:{ports.prometheus}",
    }


def prometheus_config(
    bundled: Path,
    ports: StackPorts,
    rule_files: Optional[Sequence[Path]] = None,
    scrape_interval: Optional[str] = None,
) -> str:
    """The bundled prometheus.yml with this stack's targets and absolute rule paths.

    ``rule_files`` replaces the bundled ``rules/*.yml`` (tests load a copy whose ``for``
    durations are shortened); ``scrape_interval`` replaces both global intervals.
    """
    text = bundled.read_text(encoding="utf-8")
    for field, default in _DEFAULT_TARGETS.items():
        if f'"{default}"' not in text:
            raise ValueError(f"{bundled}: expected target {default!r} not found")
        text = text.replace(f'"{default}"', f'"{HOST}:{getattr(ports, field)}"')
    rules = rule_files if rule_files is not None else [bundled.parent / _DEFAULT_RULES]
    listed = "\n".join(f'  - "{path}"' for path in rules)
    text = text.replace(f"  - {_DEFAULT_RULES}", listed, 1)
    if scrape_interval is not None:
        text = text.replace("scrape_interval: 15s", f"scrape_interval: {scrape_interval}", 1)
        text = text.replace(
            "evaluation_interval: 15s", f"evaluation_interval: {scrape_interval}", 1
        )
    return text
