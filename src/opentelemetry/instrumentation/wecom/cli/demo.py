"""``wecom-otel demo``: a WeCom incident on the mock, and what the instrumentation makes of it.

Progress goes to stderr; the summary and the diagnosis of the incident (text, or ``--json``) to
stdout; the HTML report to ``--html FILE`` (``wecom-otel-demo-report.html`` by default).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from opentelemetry.instrumentation.wecom.diagnosis import BackendUnavailable

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom.demo import DemoRun
    from opentelemetry.instrumentation.wecom.diagnosis import Diagnosis

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
            "calls, error rates, latency and the top errcodes, then the diagnosis of the "
            "incident (root cause first, evidence, fix) and an HTML report. Telemetry goes to "
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
    parser.add_argument(
        "--json", action="store_true", help="print the summary and the diagnosis as JSON"
    )
    parser.add_argument(
        "--html",
        metavar="FILE",
        default="wecom-otel-demo-report.html",
        help="where to write the HTML report of the diagnosis "
        "(default ./wecom-otel-demo-report.html; '' for none)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if importlib.util.find_spec("wechatpy") is None or importlib.util.find_spec("httpx") is None:
        print(f"wecom-otel demo needs httpx and wechatpy: {_INSTALL_HINT}", file=err)
        return 2
    if args.stack and not _use_stack(err):
        return 2
    logging.basicConfig(level=logging.WARNING, format="wecom-otel demo: %(levelname)s: %(message)s")
    from opentelemetry.instrumentation.wecom.demo import DemoOptions, run_demo  # noqa: PLC0415
    from opentelemetry.instrumentation.wecom.demo.diagnosis import (  # noqa: PLC0415
        render as render_diagnosis,
    )
    from opentelemetry.instrumentation.wecom.demo.diagnosis import write_report  # noqa: PLC0415
    from opentelemetry.instrumentation.wecom.demo.report import render  # noqa: PLC0415
    from opentelemetry.instrumentation.wecom.diagnosis import use_color  # noqa: PLC0415

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
    demo_run = run_demo(options, err)
    summary = demo_run.summary
    diagnosis, source = demo_run.diagnosis, "from the spans it kept in memory"
    if args.stack:
        diagnosis, source = _stored_diagnosis(demo_run, err)
    report, status = None, 0
    if args.html:
        try:
            report = write_report(diagnosis, Path(args.html))
        except OSError as error:
            print(f"wecom-otel demo: cannot write {args.html}: {error.strerror}", file=err)
            status = 2  # the summary and the diagnosis are printed all the same
    if args.json:
        document = {**summary, "diagnosis": diagnosis.to_dict(), "report": str(report or "")}
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(render(summary))
        out.write(render_diagnosis(diagnosis, source, report, color=use_color(out)))
    return status


def _stored_diagnosis(demo_run: DemoRun, err: TextIO) -> tuple[Diagnosis, str]:
    """The diagnosis from the stack's backends, or the in-memory one when they cannot be read."""
    from opentelemetry.instrumentation.wecom.demo.diagnosis import from_stack  # noqa: PLC0415

    try:
        found = from_stack(demo_run, err)
    except BackendUnavailable as error:
        print(f"wecom-otel demo: {error}; the diagnosis below is from memory.", file=err)
        return demo_run.diagnosis, "from the spans it kept in memory"
    where = ", ".join(f"{kind} from {url}" for kind, url in found.sources.items())
    return found, f"read back from the stack: {where}" if where else "read back from the stack"


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
