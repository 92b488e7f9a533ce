"""The ``wecom-otel`` command line.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed namespace and returning an exit code) as the default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from opentelemetry.instrumentation.wecom.cli._args import Parser

# Module names under this package, in the order `--help` lists them.
_SUBCOMMANDS: tuple[str, ...] = ("explain", "mock", "demo", "stack", "diagnose", "trace")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="wecom-otel",
        description="OpenTelemetry for WeCom (企业微信) API calls: errcodes, mock, demo, stack.",
    )
    # Subcommand parsers are Parsers too: any bad argument is one line and exit 2.
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
