"""``wecom-otel demo``: a WeCom incident on the mock, and what the instrumentation makes of it.

Progress goes to stderr; the summary (text, or ``--json``) to stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import subprocess
import sys
from typing import TextIO

from opentelemetry.instrumentation.wecom.cli._args import integer, positive_int, seconds

_STACK_MODULE = "opentelemetry.instrumentation.wecom.stack"
_INSTALL_HINT = "pip install 'opentelemetry-instrumentation-wecom[demo]'"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a WeCom incident on the mock and summarize what the telemetry shows",
        description=(
            "Start the WeCom mock with a realistic incident (token expiry, a robot flood that "
            "trips 45009, an untrusted-IP window with 60020, partial recipient failures, a slow "
            "API), drive traffic through instrumented httpx and wechatpy clients, and print "
            "calls, error rates, latency and the top errcodes. Telemetry goes to "
            "OTEL_EXPORTER_OTLP_ENDPOINT when it is set (see docs/demo.md)."
        ),
    )
    parser.add_argument(
        "--calls", type=positive_int, default=240, help="operations to run (default 240)"
    )
    parser.add_argument(
        "--duration", type=seconds, default=12.0, help="seconds to spread them over (12)"
    )
    parser.add_argument(
        "--seed", type=integer, default=7, help="seed of the traffic and faults (7)"
    )
    parser.add_argument(
        "--stack",
        action="store_true",
        help="send telemetry to the local stack (wecom-otel stack), starting it if needed",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if importlib.util.find_spec("wechatpy") is None or importlib.util.find_spec("httpx") is None:
        print(f"wecom-otel demo needs httpx and wechatpy: {_INSTALL_HINT}", file=err)
        return 2
    if args.stack and not _use_stack(err):
        return 2
    logging.basicConfig(level=logging.WARNING, format="wecom-otel demo: %(levelname)s: %(message)s")
    from opentelemetry.instrumentation.wecom.demo import DemoOptions, run_demo  # noqa: PLC0415
    from opentelemetry.instrumentation.wecom.demo.report import render  # noqa: PLC0415

    options = DemoOptions(
        calls=args.calls,
        duration=args.duration,
        seed=args.seed,
        service_name=os.environ.get("OTEL_SERVICE_NAME") or "wecom-otel-demo",
        otlp=_otlp_configured(),
    )
    print(
        f"wecom-otel demo: {args.calls} operations over {args.duration:g} s against a mock "
        "WeCom with injected faults",
        file=err,
    )
    summary = run_demo(options, err)
    out.write(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n" if args.json else render(summary)
    )
    return 0


def _otlp_configured() -> bool:
    return any(
        os.environ.get(name, "").strip()
        for name in (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        )
    )


def _use_stack(err: TextIO) -> bool:
    """Point OTLP at the local stack's collector, running ``wecom-otel stack up`` if it is down."""
    from opentelemetry.instrumentation.wecom.demo.report import StackUrls, answers  # noqa: PLC0415

    endpoint = os.environ.setdefault("OTEL_EXPORTER_OTLP_ENDPOINT", StackUrls.current().otlp_http)
    if answers(endpoint):
        return True
    if importlib.util.find_spec(_STACK_MODULE) is None:
        print(
            f"wecom-otel demo: no collector answers at {endpoint}, and this install has no "
            "local stack. Start a collector there (collector/README.md), or unset --stack.",
            file=err,
        )
        return False
    print("wecom-otel demo: starting the local stack (wecom-otel stack up)...", file=err)
    command = [sys.executable, "-m", "opentelemetry.instrumentation.wecom.cli", "stack", "up"]
    if subprocess.run(command, check=False).returncode != 0:
        print("wecom-otel demo: `wecom-otel stack up` failed; see above.", file=err)
        return False
    return True
