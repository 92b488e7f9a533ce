"""``wecom-otel trace TRACE_ID [--jaeger URL] [--html FILE] [--json]``: look at one trace.

Fetches the trace from Jaeger's query API and draws it as a waterfall in the terminal, as a
self-contained HTML page (``--html``) or as JSON (``--json``). This is how a user of the local
stack, whose Jaeger serves no UI, looks at a trace.

Exit status: 0 shown; 1 Jaeger has no such trace; 2 bad arguments or Jaeger unreachable (one
line naming the URL and what to do).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from opentelemetry.instrumentation.wecom.cli._args import seconds
from opentelemetry.instrumentation.wecom.diagnosis import (
    JAEGER_URL_ENV,
    BackendUnavailable,
    JaegerClient,
    jaeger_url,
    render_trace_html,
    render_trace_text,
    use_color,
)

EXIT_SHOWN = 0
EXIT_NOT_FOUND = 1
EXIT_UNUSABLE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "trace",
        help="draw one trace from Jaeger as a waterfall (terminal or --html)",
        description=(
            "Fetch a trace from Jaeger's query API and draw it as a waterfall with every "
            "span's attributes and events. Exit status: 0 shown, 1 no such trace, 2 bad "
            "arguments or Jaeger unreachable."
        ),
    )
    parser.add_argument("trace_id", metavar="TRACE_ID", help="32 hex digits (shorter is padded)")
    parser.add_argument(
        "--jaeger",
        metavar="URL",
        help=(
            f"Jaeger's query URL (default: ${JAEGER_URL_ENV}, else the local stack's, "
            "http://127.0.0.1:16686 unless `wecom-otel stack up` chose other ports)"
        ),
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--html",
        metavar="FILE",
        help="write a self-contained HTML page to FILE ('-' for standard output)",
    )
    output.add_argument("--json", action="store_true", help="print the trace as JSON")
    parser.add_argument(
        "--timeout", type=seconds, default=10.0, help="seconds to wait for Jaeger (default 10)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    url = jaeger_url(args.jaeger)
    try:
        client = JaegerClient(url, timeout=args.timeout)
        trace = client.trace(args.trace_id)
    except (BackendUnavailable, ValueError) as error:  # unreachable; a bad URL or trace id
        print(f"wecom-otel trace: {error}", file=err)
        return EXIT_UNUSABLE
    if trace is None:
        print(
            f"wecom-otel trace: Jaeger at {client.url} has no trace {args.trace_id.strip()} "
            "(the collector's tail sampling keeps only a share of healthy traces, and Jaeger "
            "forgets traces past its retention)",
            file=err,
        )
        return EXIT_NOT_FOUND
    if args.json:
        out.write(json.dumps(trace.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif args.html:
        page = render_trace_html(trace)
        if args.html == "-":
            out.write(page)
        else:
            path = Path(args.html)
            try:
                path.write_text(page, encoding="utf-8")
            except OSError as error:
                print(f"wecom-otel trace: cannot write {path}: {error.strerror}", file=err)
                return EXIT_UNUSABLE
            print(f"wecom-otel trace: wrote {path} ({len(trace.spans)} spans)", file=err)
    else:
        out.write(render_trace_text(trace, color=use_color(out)))
    return EXIT_SHOWN
