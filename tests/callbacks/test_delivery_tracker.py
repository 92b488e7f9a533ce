"""The sends remembered for the delivery chain: bounded in count and age, on an injected clock."""

from __future__ import annotations

import pytest
from opentelemetry.trace import INVALID_SPAN_CONTEXT, SpanContext, TraceFlags

from opentelemetry.instrumentation.wecom._delivery import DeliveryTracker
from opentelemetry.instrumentation.wecom.testing import ManualClock


def context(n: int) -> SpanContext:
    return SpanContext(trace_id=n, span_id=n, is_remote=False, trace_flags=TraceFlags(1))


def test_answered_returns_the_send_and_the_seconds_since() -> None:
    clock = ManualClock(1000.0)
    tracker = DeliveryTracker(clock=clock)
    tracker.sent(1000002, "task-1", context(1))
    clock.advance(42.5)
    answered = tracker.answered(1000002, "task-1")
    assert answered is not None
    assert answered.span_context == context(1)
    assert answered.elapsed_s == 42.5
    assert tracker.answered(1000002, "task-1") is not None  # several members may click
    assert tracker.answered(1000003, "task-1") is None  # task ids are per app
    assert tracker.answered(1000002, "task-2") is None


def test_entries_expire_after_the_ttl() -> None:
    clock = ManualClock(1000.0)
    tracker = DeliveryTracker(ttl_s=60, clock=clock)
    tracker.sent(1, "old", context(1))
    clock.advance(30)
    tracker.sent(1, "young", context(2))
    clock.advance(30)
    assert tracker.answered(1, "old") is not None  # exactly 60 s: still kept
    clock.advance(0.001)
    assert tracker.answered(1, "old") is None
    assert tracker.answered(1, "young") is not None
    assert len(tracker) == 1


def test_the_oldest_send_is_forgotten_over_the_cap() -> None:
    tracker = DeliveryTracker(max_entries=3, clock=ManualClock(1000.0))
    for n in range(5):
        tracker.sent(1, f"task-{n}", context(n + 1))
    assert len(tracker) == 3
    assert [tracker.answered(1, f"task-{n}") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_a_resent_task_id_counts_from_the_new_send() -> None:
    clock = ManualClock(1000.0)
    tracker = DeliveryTracker(max_entries=2, clock=clock)
    tracker.sent(1, "a", context(1))
    tracker.sent(1, "b", context(2))
    clock.advance(10)
    tracker.sent(1, "a", context(3))  # a is young again: b is the oldest now
    tracker.sent(1, "c", context(4))
    assert tracker.answered(1, "b") is None
    answered = tracker.answered(1, "a")
    assert answered is not None
    assert (answered.span_context, answered.elapsed_s) == (context(3), 0.0)


def test_what_cannot_be_linked_is_not_kept() -> None:
    tracker = DeliveryTracker(clock=ManualClock(1000.0))
    tracker.sent(1, "", context(1))
    tracker.sent(1, "x" * 129, context(1))  # longer than WeCom allows
    tracker.sent(1, "unsampled", INVALID_SPAN_CONTEXT)
    assert len(tracker) == 0


def test_bounds_are_validated() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        DeliveryTracker(max_entries=0)
    with pytest.raises(ValueError, match="ttl_s"):
        DeliveryTracker(ttl_s=0)
