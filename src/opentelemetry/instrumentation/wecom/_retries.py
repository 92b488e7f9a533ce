"""Retries and token refreshes: calls that repeat a failed call, in one process.

A *chain* is the calls that belong to one piece of the app's work:

- the calls of one trace (the app has a current span: a request handler, a job, a
  ``@wecom_api`` function), separately for each ``@wecom_api`` call they run inside, so the
  HTTP calls of a decorated function form their own chain under it;
- without a current span (wechatpy called from a plain script, where the failed call, the
  token refresh and the retry are three root spans in three traces), the calls of one thread,
  or of one asyncio task.

In a chain, a call that sends the same API again after a call of that API failed (errcode,
exception or HTTP error), within ``window`` seconds, *repeats* it: it gets the attempt number,
the reason (the failed attempt's ``error.type``) and the failed attempt's span to link to.
"The same API" means the same request when both requests' fingerprints are known (the body
and the non-secret query parameters): a loop that sends one message to each member of a list
is not a chain of retries when one of them fails. A token call (``gettoken``, the suite and
provider token APIs) made after an ``auth`` error in its chain is a refresh for that reason.

Memory is bounded: at most ``capacity`` chains (least recently used dropped first), at most
:data:`MAX_APIS_PER_CHAIN` failed APIs each, and nothing older than ``window`` is kept.
What happens in another process, or after a message queue, is not seen (docs/telemetry.md).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Callable, Final, NamedTuple, Optional, Union
from urllib.parse import unquote

from opentelemetry.context import Context
from opentelemetry.trace import SpanContext, get_current_span

from opentelemetry.instrumentation.wecom._attributes import TOKEN_REFRESH_PROACTIVE
from opentelemetry.instrumentation.wecom._redaction import is_secret_param
from opentelemetry.instrumentation.wecom._url import RequestTarget

TOKEN_APIS: Final = frozenset(
    {"gettoken", "service/get_suite_token", "service/get_provider_token", "service/get_corp_token"}
)
"""The APIs that fetch a new token: a call of one of them is a token refresh."""

PROACTIVE: Final = TOKEN_REFRESH_PROACTIVE
"""Refresh reason of a token call that followed no auth error: first use or a cached token's
own expiry, as the app decided."""

DEFAULT_WINDOW_S: Final = 60.0
DEFAULT_CAPACITY: Final = 1024
MAX_APIS_PER_CHAIN: Final = 8

Fingerprint = Optional[int]


class Repeat(NamedTuple):
    """A call that repeats a failed one: it is ``attempt`` (1 for the first repeat)."""

    of: SpanContext
    attempt: int
    reason: str


class Refresh(NamedTuple):
    """Why a token call happens: after the auth error of ``after``, or :data:`PROACTIVE`."""

    reason: str
    after: Optional[SpanContext]


class _Failure(NamedTuple):
    link: SpanContext
    attempt: int  # 0: the original call
    reason: str
    fingerprint: Fingerprint
    at: float
    refresh: Optional[str]  # the refresh reason of a failed token call, inherited by its repeat


class _Chain:
    __slots__ = ("auth", "failures", "touched")

    def __init__(self, now: float) -> None:
        self.failures: OrderedDict[str, _Failure] = OrderedDict()
        self.auth: Optional[_Failure] = None
        self.touched = now


def _same_request(stored: Fingerprint, new: Callable[[], Fingerprint]) -> bool:
    if stored is None:
        return True
    fingerprint = new()
    return fingerprint is None or fingerprint == stored


class RetryChains:
    """The recent failures of each chain, to recognise repeats and refreshes. Thread-safe.

    ``clock`` returns seconds (monotonic); tests inject their own.
    """

    def __init__(
        self,
        window: float = DEFAULT_WINDOW_S,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._chains: OrderedDict[Hashable, _Chain] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.window > 0 and self.capacity > 0

    @property
    def idle(self) -> bool:
        """No failure is remembered: a new call cannot repeat anything (the common, cheap case)."""
        return not self._chains

    def __len__(self) -> int:
        return len(self._chains)

    def begin(
        self, key: Hashable, api: str, fingerprint: Callable[[], Fingerprint]
    ) -> tuple[Optional[Repeat], Optional[Refresh]]:
        """What a call of ``api`` starting in chain ``key`` repeats, and why it refreshes a token.

        The refresh is ``None`` for APIs that are not token APIs. A token call consumes the
        auth error it answers: the next token call is proactive again.
        """
        is_token = api in TOKEN_APIS
        if not self._chains:
            return None, (Refresh(PROACTIVE, None) if is_token else None)
        with self._lock:
            now = self._clock()
            self._expire(now)
            chain = self._chains.get(key)
            if chain is None:
                return None, (Refresh(PROACTIVE, None) if is_token else None)
            repeat = None
            refresh: Optional[Refresh] = None
            failure = chain.failures.get(api)
            if failure is not None and now - failure.at > self.window:
                del chain.failures[api]
                failure = None
            if failure is not None and _same_request(failure.fingerprint, fingerprint):
                repeat = Repeat(failure.link, failure.attempt + 1, failure.reason)
                if is_token and failure.refresh is not None:
                    refresh = Refresh(failure.refresh, failure.link)
            if is_token and refresh is None:
                auth = chain.auth
                if auth is not None and now - auth.at <= self.window:
                    refresh = Refresh(auth.reason, auth.link)
                    chain.auth = None
                else:
                    refresh = Refresh(PROACTIVE, None)
            self._touch(key, chain, now)
            return repeat, refresh

    def failed(
        self,
        key: Hashable,
        api: str,
        link: SpanContext,
        *,
        attempt: int,
        reason: str,
        fingerprint: Fingerprint,
        auth_error: bool,
        refresh: Optional[str] = None,
    ) -> None:
        """Remember that a call of ``api`` (attempt ``attempt``, 0 for an original) failed.

        ``auth_error``: the failure says the token is no good, so the chain's next token call
        is a refresh for ``reason``. ``refresh`` is the failed token call's own refresh reason.
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            chain = self._chains.get(key)
            if chain is None:
                chain = _Chain(now)
                self._chains[key] = chain
                while len(self._chains) > self.capacity:
                    self._chains.popitem(last=False)
            failure = _Failure(link, attempt, reason, fingerprint, now, refresh)
            failures = chain.failures
            failures.pop(api, None)
            failures[api] = failure
            while len(failures) > MAX_APIS_PER_CHAIN:
                failures.popitem(last=False)
            if auth_error and api not in TOKEN_APIS:
                chain.auth = failure
            self._touch(key, chain, now)

    def succeeded(self, key: Hashable, api: str, fingerprint: Callable[[], Fingerprint]) -> None:
        """A call of ``api`` succeeded: the chain of failures of that request is over."""
        if not self._chains:
            return
        with self._lock:
            chain = self._chains.get(key)
            if chain is None:
                return
            failure = chain.failures.get(api)
            if failure is None or not _same_request(failure.fingerprint, fingerprint):
                return
            del chain.failures[api]
            if not chain.failures and chain.auth is None:
                del self._chains[key]

    def _touch(self, key: Hashable, chain: _Chain, now: float) -> None:
        chain.touched = now
        self._chains.move_to_end(key)

    def _expire(self, now: float) -> None:
        """Drop the chains untouched for longer than the window (the least recent come first)."""
        chains = self._chains
        horizon = now - self.window
        while chains:
            key, chain = next(iter(chains.items()))
            if chain.touched >= horizon:
                return
            del chains[key]


def task_identity() -> int:
    """An id of the running asyncio task, 0 outside one (cheap when asyncio is not in use)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return 0
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running event loop in this thread
        return 0
    return 0 if task is None else id(task)


def root_chain_key(scope: int = 0) -> Hashable:
    """The chain of a call without a current span: its thread, and its asyncio task if any."""
    return (0, threading.get_ident(), task_identity(), scope)


def chain_key(parent: Context, scope: int) -> Hashable:
    """The chain of a call started in ``parent``, inside the decorated call ``scope`` (0: none).

    Trace ids are never 0, so trace chains and root chains cannot collide.
    """
    span_context = get_current_span(parent).get_span_context()
    if span_context.is_valid:
        return (span_context.trace_id, scope)
    return root_chain_key(scope)


class CallInChain:
    """One call as its chain sees it: the chain key and the request fingerprint, each
    computed at most once and only when a remembered failure makes them needed."""

    __slots__ = (
        "_body",
        "_extra",
        "_fingerprint",
        "_key",
        "_method",
        "_parent",
        "_scope",
        "_target",
    )

    def __init__(
        self,
        parent: Context,
        scope: int,
        *,
        method: Optional[str],
        target: Optional[RequestTarget],
        body: Optional[Callable[[], Optional[bytes]]],
        extra_secrets: frozenset[str],
    ) -> None:
        self._parent = parent
        self._scope = scope
        self._method = method
        self._target = target
        self._body = body
        self._extra = extra_secrets
        self._key: Optional[Hashable] = None
        self._fingerprint: Union[Fingerprint, object] = _UNKNOWN

    def key(self) -> Hashable:
        if self._key is None:
            self._key = chain_key(self._parent, self._scope)
        return self._key

    def fingerprint(self) -> Fingerprint:
        value = self._fingerprint
        if value is _UNKNOWN:
            body = self._body() if self._body is not None else None
            value = request_fingerprint(self._method, self._target, body, self._extra)
            self._fingerprint = value
        return value  # type: ignore[return-value]


_UNKNOWN: Final = object()


class ChainStart(NamedTuple):
    """What a call learned from its chain when it started."""

    repeat: Optional[Repeat]
    refresh: Optional[Refresh]


NOTHING: Final = ChainStart(None, None)
_PROACTIVE_START: Final = ChainStart(None, Refresh(PROACTIVE, None))


def start_chain(
    chains: RetryChains, api: str, call: CallInChain, inherited: Optional[Refresh] = None
) -> ChainStart:
    """Whether a call of ``api`` repeats a failed one, and why it refreshes a token.

    The chain key is computed only when some failure is remembered. ``inherited`` is the
    refresh of the decorated token call this one runs inside: the decorated call took the
    auth error.
    """
    if chains.idle:
        start = _PROACTIVE_START if api in TOKEN_APIS else NOTHING
    else:
        start = ChainStart(*chains.begin(call.key(), api, call.fingerprint))
    if inherited is not None and start.refresh is not None and start.refresh.after is None:
        return start._replace(refresh=inherited)
    return start


def request_fingerprint(
    method: Optional[str],
    target: Optional[RequestTarget],
    body: Optional[bytes],
    extra_secrets: frozenset[str] = frozenset(),
) -> Fingerprint:
    """What makes a request the same request again: method, path, non-secret query, JSON body.

    ``None`` (compare the API alone) for a call without a URL (a decorated function) and for a
    body that is not JSON (a multipart upload has a new boundary every time). The hash stays in
    the process; secret parameters (a fresh token) are left out.
    """
    if target is None:
        return None
    if body and body.lstrip()[:1] != b"{":
        return None
    query = tuple(
        sorted(
            pair
            for pair in target.query.split("&")
            if pair and not is_secret_param(unquote(pair.partition("=")[0]), extra_secrets)
        )
    )
    return hash((method, target.path, query, body or b""))
