"""``wecom-otel diagnose``: why WeCom calls fail, since when, who is hit, what to do.

Reads Prometheus (what, how much, since when) and Jaeger (example traces) and prints the
findings, most likely root cause first, as text, JSON (``--json``, the schema in
``diagnosis/diagnosis.schema.json``) or a self-contained HTML report (``--html FILE``).

Exit status: 0 healthy (no critical or warning finding, also for an unknown service or an
empty window), 1 findings, 2 bad arguments, a metrics backend that cannot be read or an HTML
report that cannot be written. Jaeger down is not an error: the diagnosis comes from metrics
alone and says so.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from opentelemetry.instrumentation.wecom.cli._args import seconds
from opentelemetry.instrumentation.wecom.diagnosis import (
    JAEGER_URL_ENV,
    PROMETHEUS_URL_ENV,
    BackendUnavailable,
    StoredSource,
    diagnose,
    render_html,
    render_text,
    use_color,
)

EXIT_HEALTHY = 0
EXIT_FINDINGS = 1
EXIT_UNUSABLE = 2

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


_MAX_WINDOW_S = 10 * 366 * 86_400.0  # beyond this, datetime arithmetic overflows long before


def parse_duration(text: str) -> timedelta:
    """``15m``, ``90s``, ``1h30m``, ``2d`` (Prometheus' units) as a timedelta."""
    compact = text.strip().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 15m, 1h, 90s, 1h30m)")
    total = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not 0 < total <= _MAX_WINDOW_S:
        raise argparse.ArgumentTypeError(
            f"the duration must be positive and at most 10 years, got {text!r}"
        )
    return timedelta(seconds=total)


def _lag(text: str) -> float:
    """Seconds, 0 allowed."""
    return 0.0 if text.strip() in ("0", "0.0") else seconds(text)


def parse_moment(text: str) -> datetime:
    """RFC 3339 / ISO 8601 (``2026-12-03T10:15:00Z``, no zone = UTC) or unix seconds."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (RFC 3339 such as 2026-12-03T10:15:00Z, or unix seconds)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diagnose",
        help="name the root cause of failing WeCom calls from Prometheus and Jaeger",
        description=(
            "Diagnose the WeCom calls of a service over a window: findings with severity, "
            "impact, evidence, example traces and the fix, most likely root cause first. "
            "Exit status: 0 healthy, 1 findings, 2 bad arguments or Prometheus unreachable."
        ),
    )
    when = parser.add_argument_group("window (default: the last 15 minutes)")
    when.add_argument(
        "--since", type=parse_duration, metavar="DURATION", help="e.g. 15m, 1h, 90s (until --end)"
    )
    when.add_argument("--start", type=parse_moment, metavar="TIME", help="RFC 3339 or unix time")
    when.add_argument("--end", type=parse_moment, metavar="TIME", help="default: now")
    parser.add_argument(
        "--service", metavar="NAME", help="service.name to diagnose (default: every service)"
    )
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        help=f"Prometheus query API (default: ${PROMETHEUS_URL_ENV}, else the local stack's)",
    )
    parser.add_argument(
        "--jaeger",
        metavar="URL",
        help=f"Jaeger query API (default: ${JAEGER_URL_ENV}, else the local stack's)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    output.add_argument(
        "--html", metavar="FILE", help="also write a self-contained HTML report to FILE"
    )
    parser.add_argument(
        "--timeout", type=seconds, default=10.0, metavar="SECONDS", help="per request (default 10)"
    )
    parser.add_argument(
        "--lag",
        type=_lag,
        metavar="SECONDS",
        help="how late data reaches Prometheus (default 76: SDK export, batch, scrape)",
    )
    parser.set_defaults(func=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if args.since is not None and args.start is not None:
        parser.error("--since and --start are exclusive: --since counts back from --end")
    if args.start is not None and args.end is not None and args.start >= args.end:
        parser.error("--start must be before --end")
    try:
        options = {} if args.lag is None else {"lag": args.lag}
        source = StoredSource(args.prometheus, args.jaeger, args.timeout, **options)
        found = diagnose(
            source,
            service=args.service,
            start=args.start,
            end=args.end,
            since=args.since or timedelta(minutes=15),
        )
    except ValueError as error:  # a URL that is not one, a window that ends before it starts
        parser.error(str(error))
    except BackendUnavailable as error:
        print(f"wecom-otel diagnose: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.json:
        sys.stdout.write(json.dumps(found.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(found, color=use_color(sys.stdout)))
    if args.html:
        try:
            Path(args.html).write_text(render_html(found), encoding="utf-8")
        except OSError as error:
            print(
                f"wecom-otel diagnose: cannot write {args.html}: {error.strerror}", file=sys.stderr
            )
            return EXIT_UNUSABLE
        sys.stdout.write(f"HTML report written to {args.html}\n")
    return EXIT_HEALTHY if found.healthy else EXIT_FINDINGS
