"""Watching a streamed body as the app reads it, at a bounded cost.

Keeps the first and the last ``WINDOW`` bytes the app read, nothing else, so
the errcode can be found when the app closes the response.
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom._body import (
    NO_OUTCOME,
    WINDOW,
    BodyOutcome,
    looks_like_json,
    outcome_of_windows,
)
from opentelemetry.instrumentation.wecom._containment import contained


class BodyWindows:
    """The head and the rolling tail of a body read chunk by chunk."""

    __slots__ = ("_content_type", "_head", "_tail")

    def __init__(self, content_type: str | None) -> None:
        self._content_type = content_type
        self._head = b""
        self._tail = b""

    @contained
    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if len(self._head) < WINDOW:
            room = WINDOW - len(self._head)
            self._head += chunk[:room]
            chunk = chunk[room:]
            if not chunk:
                return
        self._tail = (self._tail + chunk)[-WINDOW:] if len(chunk) < WINDOW else chunk[-WINDOW:]

    def outcome(self) -> BodyOutcome:
        if not looks_like_json(self._content_type, self._head):
            return NO_OUTCOME
        return outcome_of_windows(self._head, self._tail)
