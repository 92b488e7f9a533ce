"""One callback request, from recognition to the span and metric points it leaves.

:class:`CallbackRecorder` is built once per middleware (tracer, instruments, the app's keys);
the WSGI and ASGI adapters ask it whether a request is a WeCom callback, hand it the body they
read, and end the :class:`CallbackSpan` it returns with the status the app answered.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from contextvars import Token
from typing import Callable, Final, Optional

from opentelemetry.context import Context
from opentelemetry.metrics import Histogram, MeterProvider, get_meter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, TracerProvider, get_tracer
from opentelemetry.util.types import AttributeValue

from opentelemetry import context, trace
from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom import _telemetry
from opentelemetry.instrumentation.wecom._attributes import DURATION_BUCKETS
from opentelemetry.instrumentation.wecom._callbacks.examine import (
    CallbackFacts,
    EventNamer,
    SignedQuery,
    examine_push,
    examine_verification,
    signed_query,
)
from opentelemetry.instrumentation.wecom._containment import contained
from opentelemetry.instrumentation.wecom._delivery import DeliveryTracker
from opentelemetry.instrumentation.wecom._encodable import encodable_attributes, encodable_text
from opentelemetry.instrumentation.wecom._exceptions import exception_event_attributes
from opentelemetry.instrumentation.wecom._redaction import scrub
from opentelemetry.instrumentation.wecom._telemetry import SCHEMA_URL, SCOPE_NAME
from opentelemetry.instrumentation.wecom.crypto import WeComCrypto, require_cryptography
from opentelemetry.instrumentation.wecom.version import __version__

DEFAULT_MAX_BODY_BYTES: Final = 256 * 1024
"""Callback bodies up to this size are read for the middleware (WeCom's are a few KB)."""

# From seconds to WeCom's 72 h card lifetime: a member answers a card when they see it.
DELAY_BUCKETS: Final = (
    1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0,
    86400.0, 259200.0,
)  # fmt: skip
_DESCRIPTION_MAX_LENGTH: Final = 160

DeliverySource = Callable[[], Optional[DeliveryTracker]]


class CallbackRecorder:
    """Everything a middleware needs to record the callbacks of one WeCom app."""

    def __init__(
        self,
        *,
        token: Optional[str] = None,
        encoding_aes_key: Optional[str] = None,
        receive_id: Optional[str] = None,
        paths: Optional[Collection[str]] = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        tracer_provider: Optional[TracerProvider] = None,
        meter_provider: Optional[MeterProvider] = None,
        deliveries: DeliverySource = _telemetry.active_deliveries,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        keys = (token, encoding_aes_key, receive_id)
        if any(key is not None for key in keys) and not all(key is not None for key in keys):
            raise ValueError(
                "give token, encoding_aes_key and receive_id together (or none of them)"
            )
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must be >= 0")
        self.crypto: Optional[WeComCrypto] = None
        if token is not None and encoding_aes_key is not None and receive_id is not None:
            require_cryptography()
            self.crypto = WeComCrypto(token, encoding_aes_key, receive_id)  # checks the key
        self._secrets = tuple(key for key in (token, encoding_aes_key) if key)
        self.paths = frozenset(paths) if paths is not None else None
        self.max_body_bytes = max_body_bytes
        self.namer = EventNamer()
        self.deliveries = deliveries
        self.clock_ns = clock_ns
        self.tracer = get_tracer(SCOPE_NAME, __version__, tracer_provider, schema_url=SCHEMA_URL)
        meter = get_meter(SCOPE_NAME, __version__, meter_provider, schema_url=SCHEMA_URL)
        self.duration: Histogram = meter.create_histogram(
            attr.CALLBACK_DURATION_METRIC,
            unit="s",
            description="Time the app took to answer WeCom callbacks, by event and outcome.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self.delay: Histogram = meter.create_histogram(
            attr.CALLBACK_DELAY_METRIC,
            unit="s",
            description="Time from sending a template card to the callback that answers it.",
            explicit_bucket_boundaries_advisory=list(DELAY_BUCKETS),
        )

    def recognise(self, method: str, path: str, query: str) -> Optional[SignedQuery]:
        """The signature parameters if this is a WeCom callback this middleware watches."""
        if method not in ("GET", "POST"):
            return None
        signed = signed_query(query)
        if signed is None or (self.paths is not None and path not in self.paths):
            return None
        if method == "GET" and signed.echostr is None:
            return None  # a GET without echostr is not WeCom's
        return signed

    def wants_body(self, method: str) -> bool:
        return method == "POST"

    @contained
    def begin(
        self,
        method: str,
        path: str,
        signed: SignedQuery,
        body: Optional[bytes],
        start_ns: int,
    ) -> Optional[CallbackSpan]:
        """Examine the request and start its span (back-dated to ``start_ns``)."""
        if method == "GET":
            facts = examine_verification(signed, self.crypto)
        else:
            facts = examine_push(signed, body, self.crypto, self.namer)
        attributes: dict[str, AttributeValue] = {
            attr.HTTP_REQUEST_METHOD: method,
            attr.URL_PATH: path,
            attr.WECOM_CALLBACK_EVENT: facts.event,
            attr.WECOM_CALLBACK_OUTCOME: facts.outcome,
            **facts.attributes,
        }
        if facts.agent_id is not None:
            attributes[attr.WECOM_AGENT_ID] = facts.agent_id
        if facts.crypto_error is not None:
            attributes[attr.WECOM_CALLBACK_CRYPTO_ERROR] = facts.crypto_error
        links = self._answered_send(facts)
        name = "wecom callback"
        if facts.event != attr.CALLBACK_UNKNOWN_EVENT:
            name = f"{name} {facts.event}"
        span = self.tracer.start_span(
            name,
            kind=SpanKind.SERVER,
            attributes=encodable_attributes(attributes),
            links=links,
            start_time=start_ns,
        )
        known = (*self._secrets, *((signed.echostr,) if signed.echostr else ()))
        return CallbackSpan(self, span, facts, start_ns, known)

    def _answered_send(self, facts: CallbackFacts) -> list[Link]:
        """A link to the send this callback answers, and its delay recorded, if remembered."""
        if facts.task_id is None:
            return []
        tracker = self.deliveries()
        if tracker is None:
            return []
        answered = tracker.answered(facts.agent_id, facts.task_id)
        if answered is None:
            return []
        point: dict[str, AttributeValue] = {attr.WECOM_CALLBACK_EVENT: facts.event}
        card_type = facts.attributes.get(attr.WECOM_CALLBACK_CARD_TYPE)
        if card_type is not None:
            point[attr.WECOM_CALLBACK_CARD_TYPE] = card_type
        self.delay.record(answered.elapsed_s, point)
        return [Link(answered.span_context)]


class CallbackSpan:
    """A callback being answered by the app. Ended once, by :meth:`finish`."""

    __slots__ = ("_ended", "_known_secrets", "_recorder", "_start_ns", "facts", "span")

    def __init__(
        self,
        recorder: CallbackRecorder,
        span: Span,
        facts: CallbackFacts,
        start_ns: int,
        known_secrets: tuple[str, ...],
    ) -> None:
        self._recorder = recorder
        self.span = span
        self.facts = facts
        self._start_ns = start_ns
        self._known_secrets = known_secrets
        self._ended = False

    @contained
    def activate(self) -> Token[Context]:
        """Make the span current while the app handles the callback; returns the detach token."""
        return context.attach(trace.set_span_in_context(self.span))

    @contained
    def deactivate(self, token: Optional[Token[Context]]) -> None:
        if token is not None:
            context.detach(token)

    @contained
    def finish(self, status_code: Optional[int], exception: Optional[BaseException] = None) -> None:
        """End the span and record the point with what the app answered (or raised)."""
        if self._ended:
            return
        self._ended = True
        recorder = self._recorder
        end_ns = recorder.clock_ns()
        facts = self.facts
        error_type: Optional[str] = None
        description = ""
        if exception is not None:
            error_type = type(exception).__qualname__
            description = f"{error_type}: {self._scrub(str(exception))}"
        elif status_code is not None and status_code >= 500:
            error_type = str(status_code)
            description = f"HTTP {status_code}"
        elif facts.failed:
            error_type = facts.outcome
            description = f"WeCom callback {facts.outcome} ({facts.crypto_error})"
        point: dict[str, AttributeValue] = {
            attr.WECOM_CALLBACK_EVENT: facts.event,
            attr.WECOM_CALLBACK_OUTCOME: facts.outcome,
        }
        if status_code is not None:
            point[attr.HTTP_RESPONSE_STATUS_CODE] = status_code
        if error_type is not None:
            point[attr.ERROR_TYPE] = error_type
        span = self.span
        try:
            if span.is_recording():
                self._describe(status_code, exception, error_type, description, end_ns)
            recorder.duration.record(max(0, end_ns - self._start_ns) / 1e9, point)
        finally:
            span.end(end_time=end_ns)  # last: an ended span means the point is recorded

    @contained
    def _describe(
        self,
        status_code: Optional[int],
        exception: Optional[BaseException],
        error_type: Optional[str],
        description: str,
        end_ns: int,
    ) -> None:
        span = self.span
        attributes: dict[str, AttributeValue] = {}
        if status_code is not None:
            attributes[attr.HTTP_RESPONSE_STATUS_CODE] = status_code
        if error_type is not None:
            attributes[attr.ERROR_TYPE] = error_type
        span.set_attributes(attributes)
        if exception is not None:
            # Stamped with the callback's end, when the exception was seen: never after the span.
            span.add_event(
                attr.EXCEPTION_EVENT,
                exception_event_attributes(exception, self._scrub),
                timestamp=end_ns,
            )
        if error_type is not None:
            description = encodable_text(description)[:_DESCRIPTION_MAX_LENGTH]
            span.set_status(Status(StatusCode.ERROR, description))

    def _scrub(self, text: str) -> str:
        return scrub(text, self._known_secrets)
