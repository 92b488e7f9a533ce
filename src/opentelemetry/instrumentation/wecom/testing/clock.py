"""A clock that moves only when a test says so, for ``MockWeComServer(clock=...)``.

Everything time-dependent in the mock (fault windows ``after``/``until``, token
lifetimes and scheduled expiries, rate-limit windows and blocks) reads the
server's clock. With a :class:`ManualClock`, a test advances time instead of
sleeping, so what it checks does not depend on how busy the machine is.
Injected latency and hangs are real delays on the wire and do not read it.
"""

from __future__ import annotations

import threading


class ManualClock:
    """Seconds that pass only through :meth:`advance`; thread-safe."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` (>= 0) forward; returns the new time."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back: advance({seconds!r})")
        with self._lock:
            self._now += seconds
            return self._now
