"""The steps every adapter shares: deciding whether a request is a WeCom call, and starting it."""

from __future__ import annotations

from typing import Optional

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry.instrumentation.wecom import _telemetry
from opentelemetry.instrumentation.wecom._body import (
    NO_OUTCOME,
    BodyOutcome,
    looks_like_json,
    outcome_of,
)
from opentelemetry.instrumentation.wecom._call import (
    RequestBody,
    ResponseInfo,
    WeComCall,
    inside_call,
)
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._redaction import RequestTarget
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom.transports._streams import BodyWindows

_SNIFF_BYTES = 64
_DEFAULT_PORTS = {"https": 443, "http": 80}


def default_port(scheme: str) -> int:
    """The port a URL without one uses."""
    return _DEFAULT_PORTS.get(scheme, 443)


def telemetry_for_new_call() -> Optional[Telemetry]:
    """The active telemetry, unless instrumentation is off, suppressed, or a call is in flight."""
    telemetry = _telemetry.active()
    if telemetry is None or inside_call() or not is_instrumentation_enabled():
        return None
    return telemetry


def begin_call(
    telemetry: Telemetry, method: str, target: RequestTarget, request_body: RequestBody
) -> WeComCall:
    api = telemetry.api_namer.name(target.path)
    return WeComCall.begin(telemetry, api, method=method, target=target, request_body=request_body)


def outcome_of_body(content_type: Optional[str], body: bytes) -> BodyOutcome:
    """The errcode of a complete body the app has read, if it is a JSON body."""
    if not looks_like_json(content_type, body[:_SNIFF_BYTES]):
        return NO_OUTCOME
    return outcome_of(body)


def parse_content_length(value: Optional[str]) -> Optional[int]:
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
