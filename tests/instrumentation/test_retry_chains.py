"""The retry-chain tracker on its own: repeats, refresh reasons, window, memory cap (fake clock)."""

from __future__ import annotations

import asyncio
import threading

from opentelemetry.trace import SpanContext, TraceFlags

from opentelemetry.instrumentation.wecom._retries import (
    MAX_APIS_PER_CHAIN,
    PROACTIVE,
    Refresh,
    Repeat,
    RetryChains,
    root_chain_key,
    task_identity,
)
from opentelemetry.instrumentation.wecom.testing import ManualClock

CHAIN = ("trace", 1)
OTHER_CHAIN = ("trace", 2)


def span(number: int) -> SpanContext:
    return SpanContext(trace_id=1, span_id=number, is_remote=False, trace_flags=TraceFlags(1))


def no_fingerprint() -> None:
    return None


def fingerprint(value: int):  # type: ignore[no-untyped-def]
    return lambda: value


def fail(
    chains: RetryChains,
    api: str,
    number: int,
    *,
    key: object = CHAIN,
    attempt: int = 0,
    reason: str = "42001",
    auth: bool = False,
    print_: int | None = None,
) -> None:
    chains.failed(
        key,
        api,
        span(number),
        attempt=attempt,
        reason=reason,
        fingerprint=print_,
        auth_error=auth,
    )


def test_an_idle_tracker_marks_nothing_and_token_calls_are_proactive() -> None:
    chains = RetryChains(clock=ManualClock(1000.0))
    assert chains.idle
    assert chains.begin(CHAIN, "message/send", no_fingerprint) == (None, None)
    assert chains.begin(CHAIN, "gettoken", no_fingerprint) == (None, Refresh(PROACTIVE, None))


def test_wechatpy_refresh_and_retry_is_one_chain() -> None:
    """send (42001) -> gettoken -> send again: a refresh for 42001, then attempt 1 of the send."""
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "message/send", 1, reason="42001", auth=True, print_=7)
    repeat, refresh = chains.begin(CHAIN, "gettoken", no_fingerprint)
    assert repeat is None
    assert refresh == Refresh("42001", span(1))
    chains.succeeded(CHAIN, "gettoken", no_fingerprint)
    repeat, refresh = chains.begin(CHAIN, "message/send", fingerprint(7))
    assert repeat == Repeat(span(1), 1, "42001")
    assert refresh is None
    chains.succeeded(CHAIN, "message/send", fingerprint(7))
    assert chains.idle
    assert chains.begin(CHAIN, "message/send", fingerprint(7)) == (None, None)


def test_the_auth_error_is_consumed_by_the_first_token_call() -> None:
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "user/get", 1, reason="40014", auth=True)
    assert chains.begin(CHAIN, "gettoken", no_fingerprint)[1] == Refresh("40014", span(1))
    assert chains.begin(CHAIN, "gettoken", no_fingerprint)[1] == Refresh(PROACTIVE, None)


def test_a_failed_token_call_is_not_an_auth_error_for_the_next_one_but_its_repeat() -> None:
    """gettoken failing with 40001 and asked again: a repeat, keeping the first refresh reason."""
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "message/send", 1, reason="42001", auth=True)
    assert chains.begin(CHAIN, "gettoken", no_fingerprint)[1] == Refresh("42001", span(1))
    chains.failed(
        CHAIN,
        "gettoken",
        span(2),
        attempt=0,
        reason="40001",
        fingerprint=None,
        auth_error=True,
        refresh="42001",
    )
    repeat, refresh = chains.begin(CHAIN, "gettoken", no_fingerprint)
    assert repeat == Repeat(span(2), 1, "40001")
    assert refresh == Refresh("42001", span(2))


def test_attempts_count_up_while_the_repeats_keep_failing() -> None:
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "message/send", 1, reason="-1")
    for attempt in range(1, 4):
        repeat, _ = chains.begin(CHAIN, "message/send", no_fingerprint)
        assert repeat == Repeat(span(attempt), attempt, "-1")
        fail(chains, "message/send", attempt + 1, attempt=attempt, reason="-1")


def test_the_reason_is_that_of_the_attempt_repeated() -> None:
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "message/send", 1, reason="ConnectError")
    repeat, _ = chains.begin(CHAIN, "message/send", no_fingerprint)
    assert repeat is not None
    fail(chains, "message/send", 2, attempt=repeat.attempt, reason="45009")
    assert chains.begin(CHAIN, "message/send", no_fingerprint)[0] == Repeat(span(2), 2, "45009")


def test_a_different_request_of_the_same_api_is_not_a_repeat() -> None:
    """A loop sending to one member after another: one failure does not make the next a retry."""
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "message/send", 1, reason="81013", print_=111)
    assert chains.begin(CHAIN, "message/send", fingerprint(222)) == (None, None)
    chains.succeeded(CHAIN, "message/send", fingerprint(222))  # the other request succeeding
    assert chains.begin(CHAIN, "message/send", fingerprint(111))[0] == Repeat(span(1), 1, "81013")


def test_unknown_fingerprints_match_on_the_api() -> None:
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "media/upload", 1, reason="-1", print_=None)
    assert chains.begin(CHAIN, "media/upload", fingerprint(5))[0] == Repeat(span(1), 1, "-1")
    fail(chains, "user/get", 2, reason="-1", print_=5)
    assert chains.begin(CHAIN, "user/get", no_fingerprint)[0] == Repeat(span(2), 1, "-1")


def test_other_chains_and_other_apis_are_not_repeats() -> None:
    chains = RetryChains(clock=ManualClock(1000.0))
    fail(chains, "message/send", 1, reason="42001", auth=True)
    assert chains.begin(OTHER_CHAIN, "message/send", no_fingerprint) == (None, None)
    assert chains.begin(OTHER_CHAIN, "gettoken", no_fingerprint)[1] == Refresh(PROACTIVE, None)
    assert chains.begin(CHAIN, "user/get", no_fingerprint) == (None, None)


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = ManualClock(1000.0)
    chains = RetryChains(window=10.0, clock=clock)
    fail(chains, "message/send", 1, reason="42001", auth=True)
    clock.advance(10.5)
    assert chains.begin(CHAIN, "message/send", no_fingerprint) == (None, None)
    assert chains.begin(CHAIN, "gettoken", no_fingerprint)[1] == Refresh(PROACTIVE, None)
    assert chains.idle  # the whole chain went with its last failure


def test_within_the_window_a_late_retry_is_still_seen() -> None:
    clock = ManualClock(1000.0)
    chains = RetryChains(window=60.0, clock=clock)
    fail(chains, "message/send", 1, reason="45009")
    clock.advance(59.0)  # WeCom's minute-level block is 60 s: an app waiting it out
    assert chains.begin(CHAIN, "message/send", no_fingerprint)[0] == Repeat(span(1), 1, "45009")


def test_memory_is_capped_least_recently_used_chain_first() -> None:
    clock = ManualClock(1000.0)
    chains = RetryChains(capacity=3, clock=clock)
    for number in range(5):
        fail(chains, "message/send", number, key=("trace", number))
        clock.advance(0.001)
    assert len(chains) == 3
    assert chains.begin(("trace", 0), "message/send", no_fingerprint) == (None, None)
    assert chains.begin(("trace", 4), "message/send", no_fingerprint)[0] is not None


def test_a_chain_keeps_at_most_a_few_failed_apis() -> None:
    chains = RetryChains(clock=ManualClock(1000.0))
    for number in range(MAX_APIS_PER_CHAIN + 5):
        fail(chains, f"api/{number}", number)
    assert chains.begin(CHAIN, "api/0", no_fingerprint) == (None, None)
    last = MAX_APIS_PER_CHAIN + 4
    assert chains.begin(CHAIN, f"api/{last}", no_fingerprint)[0] == Repeat(span(last), 1, "42001")


def test_disabled_by_a_zero_window_or_capacity() -> None:
    assert RetryChains(window=60.0, capacity=10).enabled
    assert not RetryChains(window=0.0).enabled
    assert not RetryChains(capacity=0).enabled


def test_root_chains_are_per_thread() -> None:
    keys: list[object] = []
    thread = threading.Thread(target=lambda: keys.append(root_chain_key()))
    thread.start()
    thread.join()
    assert keys[0] != root_chain_key()
    assert root_chain_key() == root_chain_key()


def test_root_chains_are_per_asyncio_task() -> None:
    async def key_in_task() -> object:
        return root_chain_key()

    async def main() -> tuple[object, object, int]:
        first, second = await asyncio.gather(key_in_task(), key_in_task())
        return first, second, task_identity()

    first, second, main_task = asyncio.run(main())
    assert first != second
    assert main_task != 0
    assert task_identity() == 0  # no event loop running here


def test_concurrent_use_keeps_the_cap() -> None:
    chains = RetryChains(capacity=50, clock=ManualClock(1000.0))

    def hammer(offset: int) -> None:
        for number in range(500):
            key = ("trace", offset * 1000 + number)
            fail(chains, "message/send", number, key=key)
            chains.begin(key, "message/send", no_fingerprint)
            chains.succeeded(key, "message/send", no_fingerprint)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(chains) <= 50
