"""``wecom-otel stack build|up|down|status``: the local stack without Docker.

``build`` puts the collector and Jaeger into the cache: the official release artifacts,
checksum-verified, where they can be downloaded, else built from Go modules (OCB for the
collector); it installs Prometheus from Debian when missing. CI runs it before the tests.
``up`` starts Jaeger, the WeCom collector and Prometheus on 127.0.0.1 with the bundled
configs and returns once all three are healthy; ``down`` stops them; ``status`` reports.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

from opentelemetry.instrumentation.wecom.cli._args import port
from opentelemetry.instrumentation.wecom.stack.build import BuildError, ensure_binaries
from opentelemetry.instrumentation.wecom.stack.paths import BundleNotFoundError, state_dir
from opentelemetry.instrumentation.wecom.stack.ports import (
    PortInUseError,
    StackPorts,
    parse_overrides,
)
from opentelemetry.instrumentation.wecom.stack.processes import (
    LocalStack,
    StackError,
    saved_ports,
    stack_status,
    stop_all,
    urls,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "stack",
        help="local collector + Jaeger + Prometheus without Docker (build|up|down|status)",
        description=(
            "Build and run the bundled WeCom collector, Jaeger v2 and Prometheus on 127.0.0.1. "
            "Binaries are cached in $WECOM_OTEL_CACHE (default ~/.cache/wecom-otel); pid files "
            "and logs live in $WECOM_OTEL_STATE_DIR (default ~/.local/state/wecom-otel)."
        ),
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="pid files, logs and data (default: %(default)s)",
    )
    actions = parser.add_subparsers(dest="stack_command", metavar="ACTION")
    actions.required = True
    build = actions.add_parser(
        "build",
        help="download (checksum-verified) or build the binaries (cached; CI runs this first)",
    )
    build.add_argument(
        "--from-source",
        action="store_true",
        help="build from Go modules without trying the official release downloads",
    )
    up = actions.add_parser("up", help="start the stack and wait until it is healthy")
    up.add_argument(
        "--port",
        action="append",
        type=_port_override,
        default=[],
        metavar="NAME=PORT",
        help=f"move one port; names: {', '.join(StackPorts.names())}",
    )
    up.add_argument(
        "--probe-target",
        default=None,
        type=_probe_target,
        help="URL the collector's http_check probes (default https://qyapi.weixin.qq.com)",
    )
    actions.add_parser("down", help="stop the stack")
    actions.add_parser("status", help="show what runs and whether it is healthy")
    parser.set_defaults(func=run)


def _port_override(text: str) -> str:
    """``NAME=PORT`` with a known name and a port number (checked here, applied by ``_up``)."""
    try:
        ((name, value),) = parse_overrides([text]).items()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if name not in StackPorts.names():
        known = ", ".join(StackPorts.names())
        raise argparse.ArgumentTypeError(f"unknown port name {name!r}; known: {known}")
    port(str(value))
    return text


def _probe_target(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s)://HOST[:PORT] URL")
    try:
        parts.port  # noqa: B018  (raises for a port beyond 65535)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    return text


def run(args: argparse.Namespace) -> int:
    state: Path = args.state_dir or state_dir()
    try:
        if args.stack_command == "build":
            return _build(download=not args.from_source)
        if args.stack_command == "up":
            return _up(state, args.port, args.probe_target)
        if args.stack_command == "down":
            return _down(state)
        return _status(state)
    except (BuildError, BundleNotFoundError, PortInUseError, StackError, ValueError) as error:
        print(f"wecom-otel stack {args.stack_command}: {error}", file=sys.stderr)
        return 1


def _report(message: str) -> None:
    print(message, flush=True)


def _build(download: bool) -> int:
    binaries = ensure_binaries(report=_report, download=download)
    for name, path in vars(binaries).items():
        print(f"{name:<11} {path}")
    return 0


def _up(state: Path, port_options: list[str], probe_target: str | None) -> int:
    ports = StackPorts().with_overrides(parse_overrides(port_options))
    overrides = {"WECOM_OTEL_HTTP_CHECK_ENDPOINT": probe_target} if probe_target else {}
    stack = LocalStack(ensure_binaries(report=_report), ports, state, collector_overrides=overrides)
    stack.up()
    print(f"stack is up (state: {state})")
    for label, url in urls(ports).items():
        print(f"  {label:<30} {url}")
    print("stop it with: wecom-otel stack down")
    return 0


def _down(state: Path) -> int:
    for name, was_running in stop_all(state):
        print(f"{name:<11} {'stopped' if was_running else 'not running'}")
    return 0


def _status(state: Path) -> int:
    ports = saved_ports(state) or StackPorts()
    statuses = stack_status(state, ports)
    for status in statuses:
        if status.pid is None:
            line = "not running"
        else:
            line = f"pid {status.pid}, {'healthy' if status.healthy else 'NOT healthy'}"
        print(f"{status.name:<11} {line:<28} {status.health_url}  log: {status.log}")
    return 0 if all(s.healthy for s in statuses) else 3
