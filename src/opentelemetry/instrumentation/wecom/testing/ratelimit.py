"""Frequency (45009) and concurrency (45033) limits with WeCom's block window."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase

from .scenario import RateLimit


class SlidingWindow:
    """At most ``limit`` admissions per ``window`` seconds; going over blocks for ``block`` s."""

    def __init__(self, limit: int, window: float, block: float) -> None:
        self.limit = limit
        self.window = window
        self.block = block
        self._stamps: deque[float] = deque()
        self._blocked_until = 0.0

    def admit(self, now: float) -> bool:
        if now < self._blocked_until:
            return False
        while self._stamps and self._stamps[0] <= now - self.window:
            self._stamps.popleft()
        if len(self._stamps) >= self.limit:
            if self.block > 0:
                self._blocked_until = now + self.block
                self._stamps.clear()
            return False
        self._stamps.append(now)
        return True


class RateLimiter:
    """Applies a list of :class:`RateLimit` rules; each (rule, API, key) counts separately."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: list[RateLimit] = []
        self._windows: dict[tuple[int, str, str], SlidingWindow] = {}
        self._in_flight: dict[tuple[int, str], int] = {}

    @property
    def limits(self) -> list[RateLimit]:
        with self._lock:
            return list(self._limits)

    def add(self, limit: RateLimit) -> None:
        with self._lock:
            self._limits.append(limit)

    def clear(self) -> None:
        with self._lock:
            self._limits.clear()
            self._windows.clear()
            self._in_flight.clear()

    @contextmanager
    def admit(self, api: str, key: str = "") -> Iterator[int | None]:
        """Yield None when the call may proceed, else the errcode (45009 or 45033) to answer.

        A concurrency slot is held until the ``with`` block ends.
        """
        taken: list[tuple[int, str]] = []
        errcode = None
        with self._lock:
            now = self._clock()
            for index, limit in enumerate(self._limits):
                if not fnmatchcase(api, limit.api):
                    continue
                if limit.per_minute is not None:
                    window = self._windows.get((index, api, key))
                    if window is None:
                        window = SlidingWindow(limit.per_minute, limit.window, limit.block)
                        self._windows[(index, api, key)] = window
                    if not window.admit(now):
                        errcode = 45009
                        break
                if limit.max_concurrent is not None:
                    slot = (index, api)
                    if self._in_flight.get(slot, 0) >= limit.max_concurrent:
                        errcode = 45033
                        break
                    taken.append(slot)
            if errcode is not None:
                taken.clear()
            for slot in taken:
                self._in_flight[slot] = self._in_flight.get(slot, 0) + 1
        try:
            yield errcode
        finally:
            if taken:
                with self._lock:
                    for slot in taken:
                        self._in_flight[slot] = max(0, self._in_flight.get(slot, 0) - 1)
