"""The delivery chain: template cards this process sent, remembered until WeCom calls back.

``message/send`` of a ``template_card`` carries the app's ``task_id``; when a member clicks the
card, WeCom pushes a ``template_card_event`` callback with the same ``TaskId`` (and the
``AgentID``). Remembering (agent, task) -> (send span, send time) lets the callback span link to
the send span and measure the time in between.

Memory is bounded twice: at most ``max_entries`` sends are kept (the oldest is forgotten first)
and none longer than ``ttl_s`` (72 h by default: the lifetime of the card's ``response_code``).
An entry takes at most about 0.7 KB (measured with 128-character task ids, WeCom's maximum),
so the default 10,000 entries stay near 7 MB. A card sent to several members is answered by
several callbacks, so an entry stays until it expires or is pushed out, not until its first
callback.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Final, NamedTuple, Optional

from opentelemetry.trace import SpanContext

DEFAULT_MAX_ENTRIES: Final = 10_000
DEFAULT_TTL_S: Final = 72 * 3600.0
MAX_TASK_ID_LENGTH: Final = 128
"""WeCom's limit for ``task_id``; longer ids are not WeCom's and are not remembered."""


class Sent(NamedTuple):
    """A remembered send: its span and when (on the tracker's clock) it was sent."""

    span_context: SpanContext
    sent_at: float


class Answered(NamedTuple):
    """The send a callback answers, and the seconds since it was sent."""

    span_context: SpanContext
    elapsed_s: float


class DeliveryTracker:
    """(agent id, task id) -> the send, bounded in count and age. Thread-safe.

    ``clock`` returns seconds (``time.monotonic`` by default; tests inject their own).
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be > 0")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: OrderedDict[tuple[int, str], Sent] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def sent(self, agent_id: Optional[int], task_id: str, span_context: SpanContext) -> None:
        """Remember a template card sent by the span ``span_context``."""
        if not task_id or len(task_id) > MAX_TASK_ID_LENGTH or not span_context.is_valid:
            return
        now = self.clock()
        key = (agent_id or 0, task_id)
        with self._lock:
            self._entries.pop(key, None)  # a re-send moves to the young end
            self._entries[key] = Sent(span_context, now)
            self._forget_old(now)

    def answered(self, agent_id: Optional[int], task_id: str) -> Optional[Answered]:
        """The send that the callback for (``agent_id``, ``task_id``) answers, if remembered."""
        if not task_id or len(task_id) > MAX_TASK_ID_LENGTH:
            return None
        now = self.clock()
        with self._lock:
            self._forget_old(now)
            entry = self._entries.get((agent_id or 0, task_id))
        if entry is None:
            return None
        return Answered(entry.span_context, max(0.0, now - entry.sent_at))

    def _forget_old(self, now: float) -> None:
        """Drop expired entries and, over the cap, the oldest ones. Holds the lock."""
        entries = self._entries
        while len(entries) > self.max_entries:
            entries.popitem(last=False)
        while entries:
            oldest = next(iter(entries.values()))
            if now - oldest.sent_at <= self.ttl_s:
                break
            entries.popitem(last=False)
