"""The terminal rendering of the demo summary, and where to look next (Jaeger, Prometheus)."""

from __future__ import annotations

import json
import socket
import textwrap
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from opentelemetry.instrumentation.wecom.demo.chains import render_chains
from opentelemetry.instrumentation.wecom.stack.ports import StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import last_ports

_DEFAULT_PORTS = StackPorts()


@dataclass(frozen=True)
class StackUrls:
    """Where the local stack (`wecom-otel stack up`) listens: the ports of its last ``up``."""

    otlp_http: str = _DEFAULT_PORTS.url("otlp_http")
    jaeger: str = _DEFAULT_PORTS.url("jaeger_ui")
    prometheus: str = _DEFAULT_PORTS.url("prometheus")

    @classmethod
    def current(cls) -> StackUrls:
        ports = last_ports()
        return cls(ports.url("otlp_http"), ports.url("jaeger_ui"), ports.url("prometheus"))


_PROMQL_CALLS = (
    'sum by (wecom_api, wecom_errcode) (wecom_client_duration_seconds_count{{job="{job}"}})'
)
_PROMQL_P95 = (
    "histogram_quantile(0.95, sum by (wecom_api, le) "
    '(rate(wecom_client_duration_seconds_bucket{{job="{job}"}}[5m])))'
)


def answers(url: str, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at ``url``'s host and port."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout).close()
    except OSError:
        return False
    return True


def where_to_look(service: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Links into Jaeger and Prometheus for this run, when the local stack answers."""
    stack = StackUrls.current()
    stack_up = answers(stack.jaeger) and answers(stack.prometheus)
    top = summary["top_errcodes"][0]["errcode"] if summary["top_errcodes"] else 42001
    trace_id = summary["failed_trace_ids"][0] if summary["failed_trace_ids"] else None
    tags = json.dumps({"wecom.errcode": str(top)}, separators=(",", ":"))
    job = service
    return {
        "stack_up": stack_up,
        "jaeger": {
            "search": f"{stack.jaeger}/search?{urlencode({'service': service, 'tags': tags})}",
            "trace": f"{stack.jaeger}/trace/{trace_id}" if trace_id else None,
            "api": f"{stack.jaeger}/api/v3/traces/{trace_id}" if trace_id else None,
        },
        "prometheus": {
            "calls": _graph(stack.prometheus, _PROMQL_CALLS.format(job=job)),
            "p95": _graph(stack.prometheus, _PROMQL_P95.format(job=job)),
        },
    }


def _graph(prometheus: str, expr: str) -> str:
    return f"{prometheus}/graph?g0.expr={quote(expr)}&g0.tab=0"


def render(summary: dict[str, Any]) -> str:
    """The human-readable summary."""
    lines = [
        "",
        f"WeCom demo: {summary['calls']} WeCom API calls in {summary['elapsed_s']:.1f} s "
        f"against the mock at {summary['mock_url']}",
        f"  {summary['errors']} failed ({_pct(summary['error_rate'])}), "
        f"{summary['partial_failures']} delivered with some recipients dropped",
        "",
        *_api_table(summary["apis"]),
        "",
        "Top errcodes (meaning and fix from `wecom-otel explain`)",
    ]
    for row in summary["top_errcodes"]:
        retry = "retry can help" if row["retryable"] else "do not retry"
        lines.append(f"  {row['errcode']} × {row['count']}  [{row['category']}, {retry}]")
        lines += _wrapped("apis", ", ".join(row["apis"]))
        lines += _wrapped("meaning", row["meaning"])
        lines += _wrapped("fix", row["remediation"])
        if row["trace_ids"]:
            lines.append(f"      traces:  {', '.join(row['trace_ids'][:2])}")
    if "chains" in summary:
        lines += render_chains(summary["chains"])
    lines += ["", *_telemetry_lines(summary)]
    return "\n".join(lines) + "\n"


def _api_table(apis: list[dict[str, Any]]) -> list[str]:
    header = (
        f"  {'API':<18}{'calls':>6}{'errors':>8}{'error%':>8}{'partial':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}  errcodes"
    )
    lines = [header, "  " + "-" * (len(header) + 14)]
    for row in apis:
        codes = ", ".join(f"{code}×{n}" for code, n in row["errcodes"].items() if code != "0")
        lines.append(
            f"  {row['api']:<18}{row['calls']:>6}{row['errors']:>8}{_pct(row['error_rate']):>8}"
            f"{row['partial_failures']:>9}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
            f"  {codes or '-'}"
        )
    return lines


def _telemetry_lines(summary: dict[str, Any]) -> list[str]:
    telemetry = summary["telemetry"]
    where = summary["where"]
    if telemetry["otlp_endpoint"] is None:
        lines = [
            "Telemetry stayed in this process (no OTEL_EXPORTER_OTLP_ENDPOINT). To see these",
            "traces in Jaeger and the metrics in Prometheus: `wecom-otel stack up`, then",
            "`wecom-otel demo --stack`.",
        ]
    elif telemetry["delivered"]:
        lines = [f"Telemetry sent to {telemetry['otlp_endpoint']}."]
    else:
        lines = [
            f"Telemetry could NOT be sent to {telemetry['otlp_endpoint']}: no collector answered "
            "(see the warning above). Start one with `wecom-otel stack up`."
        ]
    if where["stack_up"] and telemetry["otlp_endpoint"] is not None:
        lines += [
            "",
            "Where to look",
            f"  Jaeger, traces with the top errcode:  {where['jaeger']['search']}",
        ]
        if where["jaeger"]["trace"]:
            trace_id = where["jaeger"]["trace"].rsplit("/", 1)[-1]
            lines += [
                f"  Jaeger, one failed call:             {where['jaeger']['trace']}",
                f"  the same trace from Jaeger's API:    {where['jaeger']['api']}",
                f"  that trace drawn in the terminal:    wecom-otel trace {trace_id}",
            ]
        lines += [
            f"  Prometheus, calls by API and errcode: {where['prometheus']['calls']}",
            f"  Prometheus, p95 latency by API:       {where['prometheus']['p95']}",
            "  the diagnosis of any window:          "
            f"wecom-otel diagnose --service {summary['service_name']} --since 15m",
        ]
    return lines


def _wrapped(label: str, text: str, width: int = 96) -> list[str]:
    prefix = f"      {label + ':':<9}"
    return textwrap.wrap(
        text, width, initial_indent=prefix, subsequent_indent=" " * len(prefix)
    ) or [prefix]


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f}%"
