"""Reading a WeCom outcome from what a decorated function returned or raised.

Accepted shapes: a mapping with ``errcode`` (a parsed WeCom body), an object
with an ``errcode`` attribute (SDK result objects, and the exceptions of
wechatpy and wecomkit), and an httpx or requests response whose body the
function has already read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Optional

from opentelemetry.instrumentation.wecom._body import NO_OUTCOME, BodyOutcome, outcome_of_fields
from opentelemetry.instrumentation.wecom._call import ResponseInfo
from opentelemetry.instrumentation.wecom.transports._common import outcome_of_body


class ReturnedOutcome(NamedTuple):
    outcome: BodyOutcome
    response: Optional[ResponseInfo]


def outcome_of_exception(exception: BaseException) -> BodyOutcome:
    return outcome_of_fields(
        getattr(exception, "errcode", None), getattr(exception, "errmsg", None)
    )


def outcome_of_result(result: Any) -> ReturnedOutcome:
    if isinstance(result, Mapping):
        outcome = outcome_of_fields(result.get("errcode"), result.get("errmsg"))
        return ReturnedOutcome(outcome, _info(None, None, None, payload=result))
    if hasattr(result, "errcode"):
        return ReturnedOutcome(
            outcome_of_fields(result.errcode, getattr(result, "errmsg", None)), None
        )
    body = _read_body(result)
    if body is None:
        return ReturnedOutcome(NO_OUTCOME, None)
    content_type = result.headers.get("content-type")
    info = _info(result.status_code, content_type, len(body), body=body)
    return ReturnedOutcome(outcome_of_body(content_type, body), info)


def _read_body(result: Any) -> Optional[bytes]:
    """The body of an httpx or requests response, only if it has been read already."""
    module = type(result).__module__
    if module.startswith("httpx") or (
        module.startswith("requests") and getattr(result, "_content_consumed", False)
    ):
        content = getattr(result, "_content", None)
    else:
        return None
    return content if isinstance(content, bytes) else None


def _info(
    status_code: Optional[int],
    content_type: Optional[str],
    content_length: Optional[int],
    *,
    body: Optional[bytes] = None,
    payload: Optional[Mapping[str, Any]] = None,
) -> ResponseInfo:
    return ResponseInfo(status_code, content_type, content_length, body, payload)
