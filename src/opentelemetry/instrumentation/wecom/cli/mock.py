"""``wecom-otel mock [--port 8080] [--scenario FILE]``: run the WeCom mock server until stopped.

Prints the base URL and the credentials to use, then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import TextIO

from opentelemetry.instrumentation.wecom.cli._args import integer, port
from opentelemetry.instrumentation.wecom.testing import MockWeComServer, ScenarioError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mock",
        help="run a WeCom mock server (with optional fault scenario) until Ctrl-C",
        description=(
            "Serve a faithful WeCom API look-alike on loopback: gettoken, message/send, "
            "user/*, media/*, webhook/send... Faults come from a scenario file (JSON or YAML) "
            "or at run time over http://HOST:PORT/__admin__/ (see docs/mock-server.md)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8080, help="port (default 8080; 0 = any)")
    parser.add_argument("--scenario", metavar="FILE", help="fault scenario, .json/.yaml/.yml")
    parser.add_argument("--seed", type=integer, help="seed for probabilistic faults and latency")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        server = MockWeComServer(args.host, args.port, args.scenario, seed=args.seed)
    except ScenarioError as exc:
        print(f"wecom-otel mock: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
    except OSError as exc:
        print(f"wecom-otel mock: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        _print_banner(server, args.scenario, out)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
    print("wecom-otel mock: stopped", file=out, flush=True)
    return 0


def _print_banner(server: MockWeComServer, scenario: str | None, out: TextIO) -> None:
    lines = [
        f"WeCom mock listening on {server.base_url}",
        f"  API base URL  {server.api_base_url}",
        f"  corpid        {server.corp_id}",
        f"  corpsecret    {server.corp_secret}",
        f"  agentid       {server.agent_id}",
        f"  webhook URL   {server.webhook_url}",
        f"  admin         {server.base_url}/__admin__/calls",
        f"  scenario      {scenario or '(none: no faults)'}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), file=out, flush=True)
