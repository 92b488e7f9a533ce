"""WeCom's silent delivery limits: what the mock delivers of an accepted message, and what not.

WeCom (doc 90454) delivers at most 30 messages a minute and 1,000 an hour from one app to one
member, and at most 200 a minute to a member through app chats; it discards the rest and still
answers errcode 0. The mock keeps exact sliding windows (a delivery counts when delivered; a
discarded one does not) and reports what it discarded, which no response shows: tests compare
it with what an observer of the traffic concluded. App chats have no member list in the mock,
so the chat stands for its members.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Callable

MEMBER_LIMITS = (("member_per_minute", 30, 60.0), ("member_per_hour", 1000, 3600.0))
APPCHAT_LIMITS = (("appchat_member_per_minute", 200, 60.0),)


@dataclass(frozen=True)
class DeliveryCounts:
    """Deliveries made and discarded since the start (or the last reset), by limit name."""

    delivered: int = 0
    discarded: dict[str, int] = field(default_factory=dict)

    @property
    def total_discarded(self) -> int:
        return sum(self.discarded.values())

    def to_dict(self) -> dict[str, object]:
        return {"delivered": self.delivered, "discarded": dict(self.discarded)}


class DeliveryLedger:
    """Per-recipient sliding windows (exact timestamps) and the totals. Thread-safe."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[object, ...], tuple[deque[float], ...]] = {}
        self._delivered = 0
        self._discarded: dict[str, int] = {}

    def deliver_to_members(self, agent_id: int, members: Iterable[str]) -> None:
        """One message from ``agent_id`` to each member (ids compared case-insensitively)."""
        with self._lock:
            now = self._clock()
            for member in members:
                self._deliver(("member", agent_id, member.lower()), MEMBER_LIMITS, now)

    def deliver_to_chat(self, chat_id: str) -> None:
        with self._lock:
            self._deliver(("chat", chat_id), APPCHAT_LIMITS, self._clock())

    def counts(self) -> DeliveryCounts:
        with self._lock:
            return DeliveryCounts(self._delivered, dict(self._discarded))

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._delivered = 0
            self._discarded.clear()

    def _deliver(
        self, key: tuple[object, ...], limits: tuple[tuple[str, int, float], ...], now: float
    ) -> None:
        windows = self._windows.get(key)
        if windows is None:
            windows = tuple(deque() for _ in limits)
            self._windows[key] = windows
        for (name, allowed, seconds), stamps in zip(limits, windows):
            while stamps and stamps[0] <= now - seconds:
                stamps.popleft()
            if len(stamps) >= allowed:
                self._discarded[name] = self._discarded.get(name, 0) + 1
                return
        for stamps in windows:
            stamps.append(now)
        self._delivered += 1
