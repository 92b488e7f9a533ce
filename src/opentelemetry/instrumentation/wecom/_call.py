"""One WeCom API call, from start to outcome: the single place spans and metric points are made.

Transport adapters (httpx, requests) and the ``wecom_api`` decorator only
translate what they see into :meth:`WeComCall.begin` and one ``finish_*``
call. This module is the call's lifecycle: the span, its context, the
attributes, the metric point and the call log; what an outcome means
(status, ``error.type``, description) is decided by ``_verdict.verdict``.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Awaitable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import Token
from typing import Any, Callable, Final, NamedTuple, Optional, TypeVar

from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import suppress_http_instrumentation
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from opentelemetry import context, trace
from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom._body import NO_OUTCOME, BodyOutcome, outcome_of_fields
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._encodable import encodable_attributes, encodable_text
from opentelemetry.instrumentation.wecom._exceptions import exception_event_attributes
from opentelemetry.instrumentation.wecom._extensions import _Extension, extension_for
from opentelemetry.instrumentation.wecom._json import small_json_object
from opentelemetry.instrumentation.wecom._redaction import redacted_url, scrub, secret_values
from opentelemetry.instrumentation.wecom._retries import (
    NOTHING,
    TOKEN_APIS,
    CallInChain,
    ChainStart,
    Refresh,
    start_chain,
)
from opentelemetry.instrumentation.wecom._telemetry import Telemetry
from opentelemetry.instrumentation.wecom._url import RequestTarget
from opentelemetry.instrumentation.wecom._verdict import Verdict, verdict
from opentelemetry.instrumentation.wecom.errcodes import classify

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


_scope_ids: Final = itertools.count(1)


class _Scope:
    """A decorated call as seen by the calls made inside it.

    ``calls`` counts them, so the decorated call records no second point; ``chain`` makes
    them a retry chain of their own; ``refresh`` is the decorated token call's refresh
    reason, which its HTTP token call records.
    """

    __slots__ = ("api", "calls", "chain", "refresh")

    def __init__(self, api: str, refresh: Optional[Refresh]) -> None:
        self.api = api
        self.calls = 0
        self.chain = next(_scope_ids)
        self.refresh = refresh


def inside_call() -> bool:
    """Whether a WeCom HTTP call is already being recorded in this context (redirects, nesting)."""
    return context.get_value(_ACTIVE_CALL_KEY) is not None


@contextmanager
def part_of_another_call() -> Iterator[None]:
    """Mark the context: the HTTP requests made here (the redirect hops of a request
    to another host) belong to that request and are never WeCom calls of their own.
    """
    token = context.attach(context.set_value(_ACTIVE_CALL_KEY, True))
    try:
        yield
    finally:
        context.detach(token)


class WeComCall:
    """A WeCom API call in flight. Built by :meth:`begin`, ended by one ``finish_*`` method."""

    __slots__ = (
        "_chain",
        "_ended",
        "_extension",
        "_in_chain",
        "_quiets_http",
        "_request_body",
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
        self._quiets_http = not telemetry.settings.keep_http_spans
        self._ended = False
        self._request_body: Optional[RequestBody] = None
        self._in_chain: Optional[CallInChain] = None
        self._chain: Optional[ChainStart] = None

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
        """Start the span.

        ``opens_scope`` marks a decorated function: its span is the parent of the
        WeCom HTTP calls made inside it, which record their own metric points
        (see :meth:`_records_point`), and it does not silence HTTP instrumentation.
        """
        parent = context.get_current()
        enclosing = context.get_value(_SCOPE_KEY, parent)
        if not isinstance(enclosing, _Scope):
            enclosing = None
        else:
            enclosing.calls += 1
        attributes: dict[str, AttributeValue] = {attr.WECOM_API: api}
        if method is not None:
            attributes[attr.HTTP_REQUEST_METHOD] = method
        if target is not None:
            attributes[attr.SERVER_ADDRESS] = target.host
            attributes[attr.SERVER_PORT] = target.port
        in_chain = chain = links = None
        if telemetry.retry_chains.enabled:
            in_chain = CallInChain(
                parent,
                enclosing.chain if enclosing is not None else 0,
                method=method,
                target=target,
                body=request_body,
                extra_secrets=telemetry.settings.extra_redact_params,
            )
            chain = _start_chain(telemetry, api, in_chain, enclosing)
            if chain is not None and chain is not NOTHING:
                links = _mark_chain(chain, attributes)
        start_ns = time.time_ns()
        span = telemetry.tracer.start_span(
            encodable_text(f"wecom {api}"),
            kind=SpanKind.CLIENT,
            attributes=encodable_attributes(attributes),
            links=links,
            start_time=start_ns,
        )
        extension = extension_for(api)
        call = cls(telemetry, api, span, start_ns, target=target, extension=extension)
        call._request_body = request_body
        call._in_chain = in_chain
        call._chain = chain
        if opens_scope:
            call._scope = _Scope(api, chain.refresh if chain is not None else None)
            call._quiets_http = False
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
        self.span.set_attributes(encodable_attributes(attributes))

    @contained
    def _run_hook(self, hook: Callable[..., None], *args: Any) -> None:
        """Run an extension hook; a failure costs its attributes, never the call."""
        hook(self, *args)

    @contained
    def _activate(self) -> Token[Context]:
        """Make the span current while the wrapped client runs; returns the token to detach.

        Marks the context so nested sends (redirect hops) are not recorded twice;
        :meth:`run` also silences the stock HTTP instrumentations (see :meth:`_call`).
        """
        ctx = trace.set_span_in_context(self.span)
        if self._scope is not None:
            ctx = context.set_value(_SCOPE_KEY, self._scope, ctx)
        else:
            ctx = context.set_value(_ACTIVE_CALL_KEY, True, ctx)
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
            if self._quiets_http:
                # Unless ``keep_http_spans`` is set, the stock httpx/requests
                # instrumentations (which would put the raw token in ``url.full``) stay quiet.
                with suppress_http_instrumentation():
                    return function(*args, **kwargs)
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
            if self._quiets_http:
                with suppress_http_instrumentation():
                    return await function(*args, **kwargs)
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
        self._finish(
            outcome, status_code=response.status_code, response=response, attributes=attributes
        )

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
        """Whether this call records its ``wecom.client.duration`` point.

        Exactly one point per WeCom call: a decorated call (``opens_scope``) whose
        function made instrumented HTTP calls records none, those calls did.
        """
        return self._scope is None or self._scope.calls == 0

    def count_invalid_recipients(self, kind: str, count: int) -> None:
        """Record recipients WeCom dropped from an accepted message (used by extensions)."""
        self.telemetry.invalid_recipients.add(
            count, encodable_attributes({attr.WECOM_API: self.api, attr.WECOM_RECIPIENT_KIND: kind})
        )

    def _finish(
        self,
        outcome: BodyOutcome,
        *,
        status_code: Optional[int] = None,
        exception: Optional[BaseException] = None,
        response: Optional[ResponseInfo] = None,
        attributes: Optional[dict[str, AttributeValue]] = None,
    ) -> None:
        """Classify the outcome, complete and end the span, record the points.

        ``attributes`` are the extension's response attributes, set with the core's in one go.
        """
        if self._ended:
            return
        self._ended = True
        end_ns = time.time_ns()
        errcode = outcome.errcode
        span = self.span
        recording = span.is_recording()
        judged = self._judge(outcome, status_code, exception, describe=recording)
        if judged is None:  # the description failed (an exception's __str__ raised ...)
            judged = verdict(errcode, status_code=status_code, exception=exception)
        if attributes is None:
            attributes = {}
        records_point = self._records_point()
        if self._extension is not None and records_point:
            self._run_hook(self._extension.on_finish, judged, response, attributes)
        try:
            if recording:
                self._describe_outcome(
                    judged,
                    errcode,
                    status_code=status_code,
                    exception=exception,
                    attributes=attributes,
                    end_ns=end_ns,
                )
        finally:
            span.end(end_time=end_ns)

        self._end_chain(judged, errcode, records_point)
        duration_s = (end_ns - self._start_ns) / 1e9
        if records_point:
            metric_attributes: dict[str, AttributeValue] = {
                attr.WECOM_API: self.api,
                attr.WECOM_STATUS: judged.status,
            }
            if errcode is not None:
                metric_attributes[attr.WECOM_ERRCODE] = errcode
            if judged.error_type is not None:
                metric_attributes[attr.ERROR_TYPE] = judged.error_type
            self.telemetry.duration.record(duration_s, encodable_attributes(metric_attributes))
        if self.telemetry.settings.call_log:
            self._log(errcode, judged, duration_s)

    def request_bytes(self) -> Optional[bytes]:
        """The request body, if the client holds it in memory (never read from a stream)."""
        return self._request_body() if self._request_body is not None else None

    @contained
    def _end_chain(self, judged: Verdict, errcode: Optional[int], records_point: bool) -> None:
        """Count the retry and the token refresh; remember a failure for the next attempt."""
        telemetry = self.telemetry
        api = self.api
        chain = self._chain
        if chain is not None and chain.repeat is not None:
            telemetry.retries.add(
                1, {attr.WECOM_API: api, attr.WECOM_RETRY_REASON: chain.repeat.reason}
            )
        if records_point and api in TOKEN_APIS:
            refresh: dict[str, AttributeValue] = {
                attr.WECOM_API: api,
                attr.WECOM_STATUS: judged.status,
            }
            if chain is not None and chain.refresh is not None:
                refresh[attr.WECOM_TOKEN_REFRESH_REASON] = chain.refresh.reason
            if judged.error_type is not None:
                refresh[attr.ERROR_TYPE] = judged.error_type
            telemetry.token_refreshes.add(1, refresh)
        in_chain = self._in_chain
        if chain is None or in_chain is None:
            return  # retry chains are off
        chains = telemetry.retry_chains
        if judged.status == attr.STATUS_OK:
            if not chains.idle:
                chains.succeeded(in_chain.key(), api, in_chain.fingerprint)
            return
        business = judged.status == attr.STATUS_BUSINESS_ERROR and errcode is not None
        chains.failed(
            in_chain.key(),
            api,
            self.span.get_span_context(),
            attempt=chain.repeat.attempt if chain.repeat is not None else 0,
            reason=judged.error_type or judged.status,
            fingerprint=in_chain.fingerprint(),
            auth_error=business and classify(errcode or 0)[0] == "auth",
            refresh=chain.refresh.reason if chain.refresh is not None else None,
        )

    @contained
    def _judge(
        self,
        outcome: BodyOutcome,
        status_code: Optional[int],
        exception: Optional[BaseException],
        *,
        describe: bool,
    ) -> Verdict:
        return verdict(
            outcome.errcode,
            outcome.errmsg,
            status_code=status_code,
            exception=exception,
            describe=describe,
            scrub=self._scrub,
        )

    @contained
    def _describe_outcome(
        self,
        judged: Verdict,
        errcode: Optional[int],
        *,
        status_code: Optional[int],
        exception: Optional[BaseException],
        attributes: dict[str, AttributeValue],
        end_ns: int,
    ) -> None:
        span = self.span
        attributes[attr.WECOM_STATUS] = judged.status
        if status_code is not None:
            attributes[attr.HTTP_RESPONSE_STATUS_CODE] = status_code
        if errcode is not None:
            attributes[attr.WECOM_ERRCODE] = errcode
        if judged.errmsg:
            attributes[attr.WECOM_ERRMSG] = judged.errmsg
        if judged.status == attr.STATUS_BUSINESS_ERROR and errcode is not None:
            category, retryable = classify(errcode)
            attributes[attr.WECOM_ERROR_CATEGORY] = category
            attributes[attr.WECOM_ERROR_RETRYABLE] = retryable
        if judged.error_type is not None:
            attributes[attr.ERROR_TYPE] = judged.error_type
        span.set_attributes(encodable_attributes(attributes))
        if exception is not None:
            exception_attributes = exception_event_attributes(exception, self._scrub)
            # Stamped with the call's end, when the exception was seen: never after the span.
            span.add_event(attr.EXCEPTION_EVENT, exception_attributes, timestamp=end_ns)
        if judged.description is not None:
            span.set_status(Status(StatusCode.ERROR, encodable_text(judged.description)))

    def _scrub(self, text: str) -> str:
        extra = self.telemetry.settings.extra_redact_params
        known = secret_values(self.target.query, extra) if self.target is not None else ()
        return scrub(text, known, extra)

    def _log(self, errcode: Optional[int], judged: Verdict, duration_s: float) -> None:
        span_context = self.span.get_span_context()
        call_logger.info(
            "wecom %s status=%s errcode=%s duration=%.3fs",
            self.api,
            judged.status,
            errcode,
            duration_s,
            extra={
                attr.WECOM_API: self.api,
                attr.WECOM_ERRCODE: errcode,
                attr.WECOM_STATUS: judged.status,
                attr.ERROR_TYPE: judged.error_type,
                "duration_s": duration_s,
                "trace_id": trace.format_trace_id(span_context.trace_id),
                "span_id": trace.format_span_id(span_context.span_id),
            },
        )


@contained
def _start_chain(
    telemetry: Telemetry, api: str, in_chain: CallInChain, enclosing: Optional[_Scope]
) -> ChainStart:
    """What the call's chain says about it: a repeat of a failed call, a token refresh reason."""
    inherited = enclosing.refresh if enclosing is not None and enclosing.api == api else None
    return start_chain(telemetry.retry_chains, api, in_chain, inherited)


@contained
def _mark_chain(chain: ChainStart, attributes: dict[str, AttributeValue]) -> Optional[list[Link]]:
    """The attributes and links of a repeat and of a token refresh, set when the span starts."""
    links = []
    repeat = chain.repeat
    if repeat is not None:
        attributes[attr.WECOM_RETRY_ATTEMPT] = repeat.attempt
        attributes[attr.WECOM_RETRY_REASON] = repeat.reason
        links.append(Link(repeat.of, {attr.WECOM_RETRY_REASON: repeat.reason}))
    refresh = chain.refresh
    if refresh is not None:
        attributes[attr.WECOM_TOKEN_REFRESH_REASON] = refresh.reason
        if refresh.after is not None and (repeat is None or refresh.after != repeat.of):
            links.append(Link(refresh.after, {attr.WECOM_TOKEN_REFRESH_REASON: refresh.reason}))
    return links or None
