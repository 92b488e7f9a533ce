"""The steps every adapter shares: deciding whether to record, starting a call, ending it."""

from __future__ import annotations

from typing import Any, Callable, Optional

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
from opentelemetry.instrumentation.wecom._transports._streams import BodyWindows
from opentelemetry.instrumentation.wecom._url import RequestTarget

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
"""A ``wrapt`` wrapper: ``(wrapped, instance, args, kwargs) -> result``."""


def may_record() -> bool:
    """False when instrumentation is suppressed or a WeCom call is already in flight."""
    return not inside_call() and is_instrumentation_enabled()


def begin_call(
    telemetry: Telemetry, method: str, target: RequestTarget, request_body: RequestBody
) -> WeComCall:
    api = telemetry.api_namer.name(target.path)
    return WeComCall.begin(telemetry, api, method=method, target=target, request_body=request_body)


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
def end_stream(call: WeComCall, info: ResponseInfo, windows: BodyWindows) -> None:
    """End a streamed call when the app closes the response, with the errcode it read."""
    call.finish_response(info, windows.outcome())
