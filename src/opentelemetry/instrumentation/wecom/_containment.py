"""Keeping instrumentation errors away from the host application.

A bug here must never change what the app sees: the failing step is skipped,
logged once per function at debug level (a busy app would otherwise flood its
logs), and the app's own call goes on.
"""

from __future__ import annotations

import functools
import logging
from typing import Callable, Optional, TypeVar

from typing_extensions import ParamSpec

_logger = logging.getLogger(__name__)
_reported: set[str] = set()

P = ParamSpec("P")
R = TypeVar("R")


def report_internal_error(where: str) -> None:
    """Log the exception being handled, the first time it happens in ``where``."""
    if where in _reported:
        return
    _reported.add(where)
    _logger.debug(
        "internal error in %s; telemetry for this call is incomplete", where, exc_info=True
    )


def contained(function: Callable[P, R]) -> Callable[P, Optional[R]]:
    """Run ``function``; on an internal error, report it and return ``None``."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> Optional[R]:
        try:
            return function(*args, **kwargs)
        except Exception:
            report_internal_error(function.__qualname__)
            return None

    return run
