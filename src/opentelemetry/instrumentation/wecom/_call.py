"""One WeCom API call, from start to outcome: the single place spans and metric points are made.

Transport adapters (httpx, requests) and the ``wecom_api`` decorator only
translate what they see into :meth:`WeComCall.begin` and one ``finish_*``
call. Everything the telemetry contract says about attributes, status,
``error.type`` and metric points lives here, once.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Awaitable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import Token
from typing import Any, Callable, Final, NamedTuple, Optional, TypeVar

from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY, Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from opentelemetry import context, trace
from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom._body import NO_OUTCOME, BodyOutcome, outcome_of_fields
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._extensions import _Extension, extension_for
from opentelemetry.instrumentation.wecom._json import small_json_object
from opentelemetry.instrumentation.wecom._redaction import redacted_url, scrub, secret_values
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom._url import RequestTarget
from opentelemetry.instrumentation.wecom.errcodes import classify

ERRMSG_MAX_LENGTH: Final = 256
_DESCRIPTION_MAX_LENGTH: Final = 160

_ACTIVE_CALL_KEY: Final = context.create_key("wecom-active-call")
_SCOPE_KEY: Final = context.create_key("wecom-call-scope")

call_logger: Final = logging.getLogger("opentelemetry.instrumentation.wecom")

RequestBody = Callable[[], Optional[bytes]]
T = TypeVar("T")


class ResponseInfo(NamedTuple):
    """What an adapter saw of a response.

    ``body`` is the whole body, if the app read it all; ``payload`` is the body
    already parsed, when a decorated function returned it as a mapping.
    """

    status_code: Optional[int]
    content_type: Optional[str]
    content_length: Optional[int]
    body: Optional[bytes]
    payload: Optional[Mapping[str, Any]] = None

    def json(self) -> Optional[Mapping[str, Any]]:
        """The body as a JSON object, if it is a small one (see ``_json.SMALL_BODY_LIMIT``)."""
        return self.payload if self.payload is not None else small_json_object(self.body)


class _Scope:
    """Counts the calls made inside a decorated function, so it records no second point."""

    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls = 0


def inside_call() -> bool:
    """Whether a WeCom HTTP call is already being recorded in this context (redirects, nesting)."""
    return context.get_value(_ACTIVE_CALL_KEY) is not None


class WeComCall:
    """A WeCom API call in flight. Built by :meth:`begin`, ended by one ``finish_*`` method."""

    __slots__ = (
        "_ended",
        "_extension",
        "_scope",
        "_start_ns",
        "api",
        "span",
        "target",
        "telemetry",
    )

    def __init__(
        self,
        telemetry: Telemetry,
        api: str,
        span: Span,
        start_ns: int,
        *,
        target: Optional[RequestTarget],
        extension: Optional[_Extension],
    ) -> None:
        self.telemetry = telemetry
        self.api = api
        self.span = span
        self.target = target
        self._start_ns = start_ns
        self._extension = extension
        self._scope: Optional[_Scope] = None
        self._ended = False

    @classmethod
    def begin(
        cls,
        telemetry: Telemetry,
        api: str,
        *,
        method: Optional[str] = None,
        target: Optional[RequestTarget] = None,
        request_body: Optional[RequestBody] = None,
        opens_scope: bool = False,
    ) -> WeComCall:
        """Start the span. ``opens_scope`` marks a decorated function that may contain calls."""
        enclosing = context.get_value(_SCOPE_KEY)
        if isinstance(enclosing, _Scope):
            enclosing.calls += 1
        attributes: dict[str, AttributeValue] = {attr.WECOM_API: api}
        if method is not None:
            attributes[attr.HTTP_REQUEST_METHOD] = method
        if target is not None:
            attributes[attr.SERVER_ADDRESS] = target.host
            attributes[attr.SERVER_PORT] = target.port
        start_ns = time.time_ns()
        span = telemetry.tracer.start_span(
            f"wecom {api}", kind=SpanKind.CLIENT, attributes=attributes, start_time=start_ns
        )
        extension = extension_for(api)
        call = cls(telemetry, api, span, start_ns, target=target, extension=extension)
        if opens_scope:
            call._scope = _Scope()
        if span.is_recording():
            call._describe_request(request_body)
        return call

    @contained
    def _describe_request(self, request_body: Optional[RequestBody]) -> None:
        attributes: dict[str, AttributeValue] = {}
        if self.target is not None:
            attributes[attr.URL_FULL] = redacted_url(
                self.target, self.telemetry.settings.extra_redact_params
            )
        if self._extension is not None and request_body is not None:
            self._run_hook(self._extension.before_call, request_body, attributes)
        self.span.set_attributes(attributes)

    @contained
    def _run_hook(self, hook: Callable[..., None], *args: Any) -> None:
        """Run an extension hook; a failure costs its attributes, never the call."""
        hook(self, *args)

    @contained
    def _activate(self) -> Token[Context]:
        """Make the span current while the wrapped client runs; returns the token to detach.

        Marks the context so nested sends (redirect hops) are not recorded twice
        and, unless ``keep_http_spans`` is set, so the stock httpx/requests
        instrumentations (which would put the raw token in ``url.full``) stay quiet.
        """
        ctx = trace.set_span_in_context(self.span)
        if self._scope is not None:
            ctx = context.set_value(_SCOPE_KEY, self._scope, ctx)
        else:
            ctx = context.set_value(_ACTIVE_CALL_KEY, True, ctx)
            if not self.telemetry.settings.keep_http_spans:
                ctx = context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True, ctx)
        return context.attach(ctx)

    @contextmanager
    def activated(self) -> Iterator[None]:
        """:meth:`_activate` as a context manager, for code between yields (generators)."""
        token = self._activate()
        try:
            yield
        finally:
            if token is not None:
                context.detach(token)

    def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``function`` with the span current.

        An exception ends the call and is re-raised unchanged; otherwise the caller
        ends the call with what ``function`` returned.
        """
        token = self._activate()
        try:
            return function(*args, **kwargs)
        except BaseException as exception:
            self.finish_exception(exception)
            raise
        finally:
            if token is not None:
                context.detach(token)

    async def run_async(
        self, function: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        """The coroutine twin of :meth:`run`."""
        token = self._activate()
        try:
            return await function(*args, **kwargs)
        except BaseException as exception:
            self.finish_exception(exception)
            raise
        finally:
            if token is not None:
                context.detach(token)

    @contained
    def finish_response(self, response: ResponseInfo, outcome: BodyOutcome = NO_OUTCOME) -> None:
        """End the call with the response the app received and the errcode found in its body."""
        if self._ended:
            return
        attributes: dict[str, AttributeValue] = {}
        if self._extension is not None and self._records_point() and self.span.is_recording():
            self._run_hook(self._extension.on_response, response, attributes)
        self._finish(outcome, status_code=response.status_code, attributes=attributes)

    @contained
    def finish_exception(self, exception: BaseException) -> None:
        """End the call with the exception the app will see (re-raised by the caller, unchanged).

        SDK exceptions that carry the WeCom ``errcode`` (wechatpy, wecomkit) are business errors.
        """
        outcome = outcome_of_fields(
            getattr(exception, "errcode", None), getattr(exception, "errmsg", None)
        )
        self._finish(outcome, exception=exception)

    @contained
    def finish_outcome(self, outcome: BodyOutcome) -> None:
        """End a decorated call with the errcode found in what the function returned."""
        self._finish(outcome)

    @contained
    def abandon(self) -> None:
        """End the span of a call whose response the app dropped without closing it."""
        self._finish(NO_OUTCOME)

    def _records_point(self) -> bool:
        """False for a decorated call whose inner calls already recorded their own points."""
        return self._scope is None or self._scope.calls == 0

    def count_invalid_recipients(self, kind: str, count: int) -> None:
        """Record recipients WeCom dropped from an accepted message (used by extensions)."""
        self.telemetry.invalid_recipients.add(
            count, {attr.WECOM_API: self.api, attr.WECOM_RECIPIENT_KIND: kind}
        )

    def _finish(
        self,
        outcome: BodyOutcome,
        *,
        status_code: Optional[int] = None,
        exception: Optional[BaseException] = None,
        attributes: Optional[dict[str, AttributeValue]] = None,
    ) -> None:
        """Classify the outcome, complete and end the span, record the point.

        ``attributes`` are the extension's response attributes, set with the core's in one go.
        """
        if self._ended:
            return
        self._ended = True
        end_ns = time.time_ns()
        errcode = outcome.errcode
        span = self.span
        error_type: Optional[str] = None
        if errcode is not None and errcode != 0:
            status = attr.STATUS_BUSINESS_ERROR
            error_type = str(errcode)
        elif exception is not None:
            status = attr.STATUS_SYSTEM_ERROR
            error_type = type(exception).__qualname__
        elif status_code is not None and status_code >= 400:
            status = attr.STATUS_SYSTEM_ERROR
            error_type = str(status_code)
        else:
            status = attr.STATUS_OK

        try:
            if span.is_recording():
                self._describe_outcome(
                    outcome,
                    status,
                    error_type,
                    status_code=status_code,
                    exception=exception,
                    attributes={} if attributes is None else attributes,
                )
        finally:
            span.end(end_time=end_ns)

        duration_s = (end_ns - self._start_ns) / 1e9
        if self._records_point():
            metric_attributes: dict[str, AttributeValue] = {
                attr.WECOM_API: self.api,
                attr.WECOM_STATUS: status,
            }
            if errcode is not None:
                metric_attributes[attr.WECOM_ERRCODE] = errcode
            if error_type is not None:
                metric_attributes[attr.ERROR_TYPE] = error_type
            self.telemetry.duration.record(duration_s, metric_attributes)
        if self.telemetry.settings.call_log:
            self._log(errcode, status, error_type, duration_s)

    @contained
    def _describe_outcome(
        self,
        outcome: BodyOutcome,
        status: str,
        error_type: Optional[str],
        *,
        status_code: Optional[int],
        exception: Optional[BaseException],
        attributes: dict[str, AttributeValue],
    ) -> None:
        span = self.span
        attributes[attr.WECOM_STATUS] = status
        if status_code is not None:
            attributes[attr.HTTP_RESPONSE_STATUS_CODE] = status_code
        errcode = outcome.errcode
        failed = errcode is not None and errcode != 0
        errmsg = self._scrub(outcome.errmsg) if failed and outcome.errmsg else None
        if errcode is not None:
            attributes[attr.WECOM_ERRCODE] = errcode
        if errmsg:
            attributes[attr.WECOM_ERRMSG] = errmsg[:ERRMSG_MAX_LENGTH]
        if failed and errcode is not None:
            category, retryable = classify(errcode)
            attributes[attr.WECOM_ERROR_CATEGORY] = category
            attributes[attr.WECOM_ERROR_RETRYABLE] = retryable
        if error_type is not None:
            attributes[attr.ERROR_TYPE] = error_type
        span.set_attributes(attributes)
        if exception is not None:
            span.add_event("exception", self._exception_attributes(exception))
        if error_type is None:
            return
        if errcode is not None and errcode != 0:
            reason = (errmsg or "").split(", hint:", 1)[0]
            description = f"WeCom errcode {errcode}" + (f": {reason}" if reason else "")
        elif exception is not None:
            description = f"{error_type}: {self._scrub(str(exception))}"
        else:
            description = f"HTTP {status_code}"
        span.set_status(Status(StatusCode.ERROR, description[:_DESCRIPTION_MAX_LENGTH]))

    def _exception_attributes(self, exception: BaseException) -> dict[str, AttributeValue]:
        stacktrace = "".join(
            traceback.format_exception(type(exception), exception, exception.__traceback__)
        )
        return {
            "exception.type": type(exception).__qualname__,
            "exception.message": self._scrub(str(exception)),
            "exception.stacktrace": self._scrub(stacktrace),
            "exception.escaped": True,
        }

    def _scrub(self, text: str) -> str:
        extra = self.telemetry.settings.extra_redact_params
        known = secret_values(self.target.query, extra) if self.target is not None else ()
        return scrub(text, known, extra)

    def _log(
        self, errcode: Optional[int], status: str, error_type: Optional[str], duration_s: float
    ) -> None:
        span_context = self.span.get_span_context()
        call_logger.info(
            "wecom %s status=%s errcode=%s duration=%.3fs",
            self.api,
            status,
            errcode,
            duration_s,
            extra={
                "wecom.api": self.api,
                "wecom.errcode": errcode,
                "wecom.status": status,
                "error.type": error_type,
                "duration_s": duration_s,
                "trace_id": trace.format_trace_id(span_context.trace_id),
                "span_id": trace.format_span_id(span_context.span_id),
            },
        )
