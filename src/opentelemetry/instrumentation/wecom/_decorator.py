"""``@wecom_api``: a WeCom span around any function that calls WeCom.

For SDKs that do not go through httpx or requests (aiohttp, a company's own
client), and to group several calls under one business operation. The rule
that keeps metrics honest: exactly one ``wecom.client.duration`` point per
call. When the function's own HTTP calls are auto-instrumented they record
the points and the decorator's span is only their parent; when none is, the
decorator records the point itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Mapping
from typing import Any, Callable, NamedTuple, Optional, TypeVar, cast

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from opentelemetry.instrumentation.wecom import _telemetry
from opentelemetry.instrumentation.wecom._body import (
    NO_OUTCOME,
    BodyOutcome,
    outcome_of_body,
    outcome_of_fields,
)
from opentelemetry.instrumentation.wecom._call import ResponseInfo, WeComCall
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._transports import read_response

F = TypeVar("F", bound=Callable[..., Any])


def wecom_api(api: str) -> Callable[[F], F]:
    """Decorate a sync or async function, or an async generator, that performs the WeCom ``api``.

    ``api`` is the path after ``/cgi-bin/`` (``"message/send"``). The errcode is
    read from the return value or from the exception's ``errcode`` attribute;
    exceptions are re-raised unchanged.
    """
    if not isinstance(api, str) or not api.strip():
        raise ValueError(f"wecom_api needs the API path after /cgi-bin/, got {api!r}")
    api = api.strip().strip("/")

    def decorate(function: F) -> F:
        if inspect.isasyncgenfunction(function):
            return cast(F, _wrap_async_generator(api, function))
        if inspect.iscoroutinefunction(function):
            return cast(F, _wrap_coroutine(api, function))
        return cast(F, _wrap_sync(api, function))

    return decorate


@contained
def _begin(api: str) -> Optional[WeComCall]:
    if not is_instrumentation_enabled():
        return None
    return WeComCall.begin(_telemetry.current(), api, opens_scope=True)


@contained
def _finish_returned(call: WeComCall, result: Any) -> None:
    returned = _outcome_of_result(result)
    if returned.response is not None:
        call.finish_response(returned.response, returned.outcome)
    else:
        call.finish_outcome(returned.outcome)


class _Returned(NamedTuple):
    outcome: BodyOutcome
    response: Optional[ResponseInfo]


def _outcome_of_result(result: Any) -> _Returned:
    """The WeCom outcome of what a decorated function returned.

    Accepted shapes: a mapping with ``errcode`` (a parsed WeCom body), an object
    with an ``errcode`` attribute (SDK result objects), and an httpx or requests
    response whose body the function has already read.
    """
    if isinstance(result, Mapping):
        outcome = outcome_of_fields(result.get("errcode"), result.get("errmsg"))
        return _Returned(outcome, ResponseInfo(None, None, None, None, result))
    if hasattr(result, "errcode"):
        return _Returned(outcome_of_fields(result.errcode, getattr(result, "errmsg", None)), None)
    info = read_response(result)
    if info is None or info.body is None:
        return _Returned(NO_OUTCOME, None)
    return _Returned(outcome_of_body(info.content_type, info.body), info)


def _wrap_sync(api: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _begin(api)
        if call is None:
            return function(*args, **kwargs)
        result = call.run(function, *args, **kwargs)
        _finish_returned(call, result)
        return result

    return wrapper


def _wrap_coroutine(api: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _begin(api)
        if call is None:
            return await function(*args, **kwargs)
        result = await call.run_async(function, *args, **kwargs)
        _finish_returned(call, result)
        return result

    return wrapper


def _wrap_async_generator(api: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """One span for the whole iteration; the outcome is that of the last item with an errcode.

    The span is current only while the generator runs (between ``__anext__``
    and its ``yield``), never while the consumer holds an item.
    """

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        call = _begin(api)
        generator = function(*args, **kwargs)
        if call is None:
            async for item in generator:
                yield item
            return
        outcome: BodyOutcome = NO_OUTCOME
        try:
            while True:
                with call.activated():
                    try:
                        item = await generator.__anext__()
                    except StopAsyncIteration:
                        break
                item_outcome = _outcome_of_result(item).outcome
                if item_outcome.errcode is not None:
                    outcome = item_outcome
                yield item
        except GeneratorExit:
            call.finish_outcome(outcome)
            await generator.aclose()
            raise
        except BaseException as exception:
            call.finish_exception(exception)
            raise
        call.finish_outcome(outcome)

    return wrapper
