"""Argument checking shared by every ``wecom-otel`` subcommand: a bad value is one line, exit 2.

:class:`Parser` reports any argument error as a single line (no usage block,
never a traceback) and exits with 2; subcommand parsers inherit it. The
``type=`` functions below turn a value the command could not use (a port
beyond 65535, an infinite duration ...) into such an error at parse time,
before anything starts.
"""

from __future__ import annotations

import argparse
import math
from typing import NoReturn

MAX_PORT = 65535


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help` for usage\n")


def port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    value = integer(text)
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to {MAX_PORT})")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seconds(text: str, maximum: float = 86_400.0) -> float:
    """A finite, positive number of seconds, at most ``maximum`` (a day by default)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {maximum:g} s, got {text}"
        )
    return value
