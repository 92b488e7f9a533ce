"""The steps every adapter shares: deciding whether to record, starting a call, ending it.

An adapter supplies what only it knows of its client: ``begin`` (is this request a
WeCom call? its target and body), whether the app has the whole body, and how to
watch a streamed body; :func:`send_wrapper` and :func:`observe` do the rest.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry.instrumentation.wecom._body import outcome_of_body
from opentelemetry.instrumentation.wecom._call import (
    RequestBody,
    ResponseInfo,
    WeComCall,
    inside_call,
)
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom._transports._streams import BodyWindows, StreamWatch
from opentelemetry.instrumentation.wecom._url import RequestTarget

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
"""A ``wrapt`` wrapper: ``(wrapped, instance, args, kwargs) -> result``."""
Begin = Callable[[Telemetry, tuple[Any, ...], dict[str, Any]], Optional[WeComCall]]
"""An adapter's start of a call: ``None`` when the request is not to be recorded."""
Observe = Callable[..., object]
"""An adapter's end of a call: ``observe(call, response, streamed=...)``, contained."""
WatchStream = Callable[[WeComCall, Any, ResponseInfo, BodyWindows], Callable[[], None]]
"""Make a streamed response feed ``windows`` and end the call when the app closes it; returns
what ends the call if the app drops the response without closing it."""


def send_wrapper(telemetry: Telemetry, begin: Begin, observe: Observe) -> Wrapper:
    """The wrapper of a synchronous ``send(request, stream=...)``, recording into ``telemetry``."""

    def wrap_send(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = begin(telemetry, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        response = call.run(wrapped, *args, **kwargs)
        observe(call, response, streamed=bool(kwargs.get("stream", False)))
        return response

    return wrap_send


K = TypeVar("K")
V = TypeVar("V")


class Watches(Generic[K, V]):
    """What each streamed response an adapter watches needs, kept beside it, never on it.

    The adapters wrap the response classes' reading and closing methods once, and those
    wrappers find the state of a WeCom response here. Nothing here refers to a response, so a
    response the app drops is freed as it would be without instrumentation (its connection
    and socket with it), not at the next cyclic garbage collection; state an app never reads
    or closes goes with the response.
    """

    __slots__ = ("_by_response",)

    def __init__(self) -> None:
        self._by_response: weakref.WeakKeyDictionary[K, V] = weakref.WeakKeyDictionary()

    @contained
    def add(self, response: K, state: V) -> None:
        self._by_response[response] = state

    def get(self, response: K) -> Optional[V]:
        """The state of ``response``; None when it is not watched (or cannot be: unhashable).

        Runs for every response the app reads, WeCom's or not: nothing watched is the
        common case and costs one length test.
        """
        if not self._by_response:
            return None
        try:
            return self._by_response.get(response)
        except TypeError:  # a response class that is not hashable is never watched
            return None

    @contained
    def pop(self, response: K) -> Optional[V]:
        return self._by_response.pop(response, None)


def may_record() -> bool:
    """False when instrumentation is suppressed or a WeCom call is already in flight."""
    return not inside_call() and is_instrumentation_enabled()


def begin_call(
    telemetry: Telemetry, method: str, target: RequestTarget, request_body: RequestBody
) -> WeComCall:
    api = telemetry.api_namer.name(target.path)
    return WeComCall.begin(telemetry, api, method=method, target=target, request_body=request_body)


def observe(call: WeComCall, response: Any, *, read: bool, watch_stream: WatchStream) -> None:
    """End the call with the body the app has (``read``), or watch the stream it will read.

    ``response`` is any client's response with ``status_code``, ``headers`` and
    ``content`` (read only when ``read`` is true).
    """
    headers = response.headers
    content_type = headers.get("content-type")
    if read:
        finish_read(call, read_response_info(response.status_code, content_type, response.content))
        return
    info = streamed_response_info(response.status_code, content_type, headers.get("content-length"))
    dropped = watch_stream(call, response, info, BodyWindows(content_type))
    weakref.finalize(response, dropped)


def read_response_info(
    status_code: Optional[int], content_type: Optional[str], body: bytes
) -> ResponseInfo:
    """What the core needs of a response whose whole body has been read."""
    return ResponseInfo(status_code, content_type, len(body), body)


def finish_read(call: WeComCall, info: ResponseInfo) -> None:
    """End a call whose whole body the app received, with the errcode in that body."""
    call.finish_response(info, outcome_of_body(info.content_type, info.body or b""))


def streamed_response_info(
    status_code: Optional[int], content_type: Optional[str], content_length: Optional[str]
) -> ResponseInfo:
    """What the core knows of a streamed response before the app reads it: its headers."""
    return ResponseInfo(status_code, content_type, _parse_content_length(content_length), None)


def _parse_content_length(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


@contained
def end_stream(
    call: WeComCall, info: ResponseInfo, windows: Union[BodyWindows, StreamWatch]
) -> None:
    """End a streamed call when the app closes the response, with the errcode it read."""
    call.finish_response(info, windows.outcome())
