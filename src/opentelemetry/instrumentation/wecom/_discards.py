"""Messages WeCom discards without telling anyone: the per-member delivery limits.

WeCom (doc 90454, 访问频率限制) delivers at most 30 messages a minute and 1,000 an hour from
one app to one member, and at most 200 a minute to one member through app chats; the rest
are "discarded, not delivered", and ``message/send`` still answers errcode 0. No response
ever says so. :class:`DeliveryLimits` keeps a sliding window per (app, member) and per app
chat and says which deliveries of an accepted message went over a limit.

The model: a delivery counts against the windows when it is delivered (a discarded one does
not), and it is discarded when the minute window or the hour window is already full. The
minute window is kept in 1-second steps, the hour window in 1-minute steps, so a window's
edge is off by at most one step. Members and chats are keyed by a hash (their ids are never
kept, and never exported); at most ``capacity`` are tracked, least recently used dropped
first. What is not seen (members reached through ``toparty``/``totag``/``@all``, other
processes sending as the same app, evicted members) makes the count a lower bound.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from typing import Callable, Final, NamedTuple, Optional


class Limit(NamedTuple):
    """``allowed`` deliveries per ``steps`` steps of ``step_s`` seconds."""

    name: str
    allowed: int
    steps: int
    step_s: float


MEMBER_PER_MINUTE: Final = Limit("member_per_minute", 30, 60, 1.0)
MEMBER_PER_HOUR: Final = Limit("member_per_hour", 1000, 60, 60.0)
APPCHAT_PER_MINUTE: Final = Limit("appchat_member_per_minute", 200, 60, 1.0)

MEMBER_LIMITS: Final = (MEMBER_PER_MINUTE, MEMBER_PER_HOUR)
APPCHAT_LIMITS: Final = (APPCHAT_PER_MINUTE,)

DEFAULT_CAPACITY: Final = 10_000


class _Window:
    """Deliveries in the last ``steps`` steps, one counter per step (a ring) and their sum."""

    __slots__ = ("counts", "last", "total")

    def __init__(self, steps: int) -> None:
        self.counts = array("H", bytes(2 * steps))  # at most the limit (<= 1000) per step
        self.last = -1  # the step of the newest delivery
        self.total = 0

    def advance(self, step: int) -> None:
        """Forget the steps that have left the window by ``step`` (a later step than ``last``)."""
        counts = self.counts
        size = len(counts)
        if step - self.last >= size:
            if self.total:
                for index in range(size):
                    counts[index] = 0
                self.total = 0
        else:
            for old in range(self.last + 1, step + 1):
                slot = old % size
                self.total -= counts[slot]
                counts[slot] = 0
        self.last = step


class _Recipient:
    """The windows of one (app, member) or one app chat."""

    __slots__ = ("windows",)

    def __init__(self, limits: tuple[Limit, ...]) -> None:
        self.windows = tuple(_Window(limit.steps) for limit in limits)

    def deliver(self, limits: tuple[Limit, ...], steps: tuple[int, ...]) -> Optional[Limit]:
        """Count one delivery in ``steps`` (one per limit); the limit that discards it, if any."""
        windows = self.windows
        for limit, window, step in zip(limits, windows, steps):
            if step > window.last:
                window.advance(step)
            if window.total >= limit.allowed:
                return limit
        for window, step in zip(windows, steps):
            counts = window.counts
            counts[step % len(counts)] += 1
            window.total += 1
        return None


class DeliveryLimits:
    """Per-member and per-chat delivery windows under a memory cap. Thread-safe.

    ``clock`` returns seconds (monotonic); tests inject their own.
    """

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._recipients: OrderedDict[int, _Recipient] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def __len__(self) -> int:
        return len(self._recipients)

    def deliver_to_members(self, app: Optional[int], members: Iterable[str]) -> dict[str, int]:
        """One message from ``app`` to each of ``members``: discarded deliveries by limit name."""
        return self._deliver(((app, member) for member in members), MEMBER_LIMITS)

    def deliver_to_chat(self, chat_id: str) -> dict[str, int]:
        """One message to the app chat ``chat_id``: discarded (1 or 0) by limit name.

        Chat members are unknown here: a message over the limit of the chat counts once,
        although WeCom discards it for every member who is over their own limit.
        """
        return self._deliver((("chat", chat_id),), APPCHAT_LIMITS)

    def _deliver(
        self, keys: Iterable[tuple[object, str]], limits: tuple[Limit, ...]
    ) -> dict[str, int]:
        discarded: dict[str, int] = {}
        recipients = self._recipients
        with self._lock:
            now = self._clock()
            steps = tuple(int(now // limit.step_s) for limit in limits)
            for key in keys:
                hashed = hash(key)
                recipient = recipients.get(hashed)
                if recipient is None:
                    recipient = _Recipient(limits)
                    recipients[hashed] = recipient
                    if len(recipients) > self.capacity:
                        recipients.popitem(last=False)
                else:
                    recipients.move_to_end(hashed)
                limit = recipient.deliver(limits, steps)
                if limit is not None:
                    discarded[limit.name] = discarded.get(limit.name, 0) + 1
        return discarded
