"""Watching a streamed body as the app reads it, at a bounded cost.

Keeps the first and the last ``WINDOW`` bytes the app read, nothing else, so
the errcode can be found when the app closes the response.
"""

from __future__ import annotations

from typing import Callable, Optional

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

    def sibling(self) -> BodyWindows:
        """Empty windows for another reading of the same body."""
        return BodyWindows(self._content_type)

    @property
    def fed(self) -> bool:
        """Whether any byte was read."""
        return bool(self._head)

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


class StreamWatch:
    """What the app read of a streamed body: the raw bytes and, where the client decodes, decoded.

    The errcode of a body sent with ``Content-Encoding`` is only readable in the
    decoded bytes; an app reading the raw stream (``iter_raw``) gets no decoded ones.

    A client may close the response itself, from inside its decoding reader, as
    soon as the raw stream is exhausted, while its decoder still holds the last
    bytes for the app (httpx's ``iter_bytes`` does). A :meth:`close` that comes
    from inside a reader therefore waits for that reader to finish, so the call
    ends with the whole body read; a close from the app (the reader suspended or
    done) ends the call at once.
    """

    __slots__ = ("_active", "_deferred", "decoded", "raw")

    def __init__(self, raw: BodyWindows) -> None:
        self.raw = raw
        self.decoded = raw.sibling()
        self._active = 0
        self._deferred: Optional[Callable[[], None]] = None

    def outcome(self) -> BodyOutcome:
        return (self.decoded if self.decoded.fed else self.raw).outcome()

    def reader_resumed(self) -> None:
        """A decoding reader runs (between the app's ``next()`` and its ``yield``)."""
        self._active += 1

    def reader_suspended(self) -> None:
        """A decoding reader hands a chunk to the app, or finishes."""
        self._active -= 1
        if self._active == 0 and self._deferred is not None:
            end, self._deferred = self._deferred, None
            end()

    def close(self, end: Callable[[], None]) -> None:
        """Run ``end`` now, or when the reader running this close has handed over its bytes."""
        if self._active > 0:
            self._deferred = end
        else:
            end()
