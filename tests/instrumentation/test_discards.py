"""Per-member delivery windows: WeCom's 30/min, 1000/h and 200/min app-chat limits (fake clock)."""

from __future__ import annotations

import sys
import threading

from opentelemetry.instrumentation.wecom._discards import DeliveryLimits
from opentelemetry.instrumentation.wecom.testing import ManualClock


def test_the_31st_message_in_a_minute_to_one_member_is_discarded() -> None:
    clock = ManualClock(5000.0)
    limits = DeliveryLimits(clock=clock)
    for _ in range(30):
        assert limits.deliver_to_members(1000002, ["zhangsan"]) == {}
        clock.advance(1.0)
    assert limits.deliver_to_members(1000002, ["zhangsan"]) == {"member_per_minute": 1}
    assert limits.deliver_to_members(1000002, ["lisi"]) == {}


def test_discarded_messages_do_not_count_against_the_window() -> None:
    clock = ManualClock(5000.0)
    limits = DeliveryLimits(clock=clock)
    for _ in range(30):
        limits.deliver_to_members(1, ["a"])
    for _ in range(100):  # all in the same second: discarded, and not counted
        assert limits.deliver_to_members(1, ["a"]) == {"member_per_minute": 1}
    clock.advance(60.0)
    for _ in range(30):
        assert limits.deliver_to_members(1, ["a"]) == {}


def test_the_minute_window_slides() -> None:
    clock = ManualClock(5000.0)
    limits = DeliveryLimits(clock=clock)
    for _ in range(15):
        limits.deliver_to_members(1, ["a"])
    clock.advance(30.0)
    for _ in range(15):
        limits.deliver_to_members(1, ["a"])
    clock.advance(29.0)
    assert limits.deliver_to_members(1, ["a"]) == {"member_per_minute": 1}
    clock.advance(2.0)  # the first 15 are more than a minute old now
    for _ in range(15):
        assert limits.deliver_to_members(1, ["a"]) == {}
    assert limits.deliver_to_members(1, ["a"]) == {"member_per_minute": 1}


def test_the_1001st_message_in_an_hour_is_discarded() -> None:
    clock = ManualClock(5000.0)
    limits = DeliveryLimits(clock=clock)
    for _ in range(1000):  # 20 a minute: under the minute limit, 1000 in 50 minutes
        assert limits.deliver_to_members(7, ["wangwu"]) == {}
        clock.advance(3.0)
    assert limits.deliver_to_members(7, ["wangwu"]) == {"member_per_hour": 1}
    clock.advance(700.0)  # the first messages leave the hour window
    assert limits.deliver_to_members(7, ["wangwu"]) == {}


def test_members_are_counted_per_app() -> None:
    limits = DeliveryLimits(clock=ManualClock(5000.0))
    for _ in range(30):
        limits.deliver_to_members(1, ["a"])
    assert limits.deliver_to_members(2, ["a"]) == {}
    assert limits.deliver_to_members(1, ["a"]) == {"member_per_minute": 1}


def test_one_message_to_many_members_counts_each_member_that_is_over() -> None:
    limits = DeliveryLimits(clock=ManualClock(5000.0))
    for _ in range(30):
        limits.deliver_to_members(1, ["a", "b"])
    assert limits.deliver_to_members(1, ["a", "b", "c"]) == {"member_per_minute": 2}


def test_app_chats_allow_200_a_minute() -> None:
    clock = ManualClock(5000.0)
    limits = DeliveryLimits(clock=clock)
    for _ in range(200):
        assert limits.deliver_to_chat("chat-1") == {}
    assert limits.deliver_to_chat("chat-1") == {"appchat_member_per_minute": 1}
    assert limits.deliver_to_chat("chat-2") == {}
    clock.advance(61.0)
    assert limits.deliver_to_chat("chat-1") == {}


def test_memory_is_capped_least_recently_used_member_first() -> None:
    clock = ManualClock(5000.0)
    limits = DeliveryLimits(capacity=100, clock=clock)
    for _ in range(30):
        limits.deliver_to_members(1, ["busy"])
    for number in range(99):
        limits.deliver_to_members(1, [f"member{number}"])
    assert len(limits) == 100
    assert limits.deliver_to_members(1, ["busy"]) == {"member_per_minute": 1}  # still tracked
    limits.deliver_to_members(1, [f"new{n}" for n in range(100)])
    assert len(limits) == 100
    # "busy" was evicted: its window starts again (the documented lower bound).
    assert limits.deliver_to_members(1, ["busy"]) == {}


def test_member_ids_are_not_kept_in_memory() -> None:
    limits = DeliveryLimits(clock=ManualClock(5000.0))
    member = "a-very-recognisable-member-id"
    limits.deliver_to_members(1, [member])
    state = repr(limits.__dict__) + repr(list(limits._recipients.items()))
    assert member not in state
    assert all(isinstance(key, int) for key in limits._recipients)


def test_memory_per_member_is_small() -> None:
    limits = DeliveryLimits(clock=ManualClock(5000.0))
    limits.deliver_to_members(1, ["a"])
    recipient = next(iter(limits._recipients.values()))
    size = sys.getsizeof(recipient) + sum(
        sys.getsizeof(w) + sys.getsizeof(w.counts) for w in recipient.windows
    )
    assert size < 1024


def test_disabled_by_a_zero_capacity() -> None:
    assert DeliveryLimits(capacity=1).enabled
    assert not DeliveryLimits(capacity=0).enabled


def test_concurrent_senders_never_deliver_more_than_the_limit() -> None:
    clock = ManualClock(5000.0)
    limits = DeliveryLimits(clock=clock)
    discarded: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(50):
            count = limits.deliver_to_members(1, ["shared"]).get("member_per_minute", 0)
            with lock:
                discarded.append(count)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(discarded) == 200 - 30
