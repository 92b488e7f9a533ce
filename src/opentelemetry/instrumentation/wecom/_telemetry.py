"""The tracer, instruments and settings that every WeCom call records into.

``WeComInstrumentor.instrument()`` builds one :class:`Telemetry` and hands it
to the wrappers it installs. The ``wecom_api`` decorator, which no
``instrument()`` call builds, looks it up with :func:`current`: the
instrumentor's while it is instrumented, otherwise a default one on the global
providers, built on first use.
"""

from __future__ import annotations

import threading
from typing import Final, Optional

from opentelemetry.metrics import Counter, Histogram, MeterProvider, get_meter
from opentelemetry.trace import Tracer, TracerProvider, get_tracer

from opentelemetry.instrumentation.wecom._api_names import ApiNamer
from opentelemetry.instrumentation.wecom._attributes import (
    DISCARDED_METRIC,
    DURATION_BUCKETS,
    DURATION_METRIC,
    INVALID_RECIPIENTS_METRIC,
    RECIPIENTS_METRIC,
    RETRIES_METRIC,
    TOKEN_REFRESHES_METRIC,
)
from opentelemetry.instrumentation.wecom._delivery import DeliveryTracker
from opentelemetry.instrumentation.wecom._discards import DeliveryLimits
from opentelemetry.instrumentation.wecom._recipients import AgentIds
from opentelemetry.instrumentation.wecom._retries import RetryChains
from opentelemetry.instrumentation.wecom._settings import Settings, resolve_settings
from opentelemetry.instrumentation.wecom.version import __version__

SCOPE_NAME: Final = "opentelemetry.instrumentation.wecom"
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.26.0"


class Telemetry:
    """Everything a call needs to record itself, built once per ``instrument()``."""

    def __init__(
        self,
        settings: Settings,
        tracer_provider: Optional[TracerProvider] = None,
        meter_provider: Optional[MeterProvider] = None,
    ) -> None:
        self.settings = settings
        self.api_namer = ApiNamer(settings.max_apis)
        self.tracer: Tracer = get_tracer(
            SCOPE_NAME, __version__, tracer_provider, schema_url=SCHEMA_URL
        )
        meter = get_meter(SCOPE_NAME, __version__, meter_provider, schema_url=SCHEMA_URL)
        self.duration: Histogram = meter.create_histogram(
            DURATION_METRIC,
            unit="s",
            description="Duration of WeCom API calls, by API and business outcome (errcode).",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self.deliveries = DeliveryTracker()
        self.invalid_recipients: Counter = meter.create_counter(
            INVALID_RECIPIENTS_METRIC,
            unit="{recipient}",
            description="Recipients WeCom dropped from messages it otherwise accepted.",
        )
        # Retries and token refreshes: chains of calls (docs/telemetry.md).
        self.retry_chains: RetryChains = RetryChains(settings.retry_window)
        self.retries: Counter = meter.create_counter(
            RETRIES_METRIC,
            unit="{retry}",
            description="WeCom calls that repeat a failed call of the same request, by reason.",
        )
        self.token_refreshes: Counter = meter.create_counter(
            TOKEN_REFRESHES_METRIC,
            unit="{refresh}",
            description="Token calls (gettoken, suite/provider/corp tokens) by outcome and reason.",
        )
        # Message budgets and silent discards.
        self.agent_ids = AgentIds()
        self.discard_windows = DeliveryLimits(settings.max_tracked_members)
        self.message_recipients: Counter = meter.create_counter(
            RECIPIENTS_METRIC,
            unit="{recipient}",
            description="Person-times of accepted app messages, by app and recipient kind.",
        )
        self.messages_discarded: Counter = meter.create_counter(
            DISCARDED_METRIC,
            unit="{message}",
            description="Deliveries of accepted messages WeCom discards silently (member limits).",
        )


_lock = threading.Lock()
_active: Optional[Telemetry] = None
_default: Optional[Telemetry] = None


def activate(telemetry: Optional[Telemetry]) -> None:
    """Make ``telemetry`` the one decorated calls record into (``None`` on uninstrument)."""
    global _active  # noqa: PLW0603 - the single switch that instrument()/uninstrument() flip
    _active = telemetry


def active_deliveries() -> Optional[DeliveryTracker]:
    """The template cards the instrumentor's calls remembered (None when not instrumented).

    The callback middleware, which no ``instrument()`` builds, links clicks to these sends.
    """
    telemetry = _active
    return None if telemetry is None else telemetry.deliveries


def current() -> Telemetry:
    """The active telemetry, or a default one on the global providers."""
    telemetry = _active
    if telemetry is not None:
        return telemetry
    global _default  # noqa: PLW0603 - built lazily: the globals may be set after import
    with _lock:
        if _default is None:
            _default = Telemetry(resolve_settings({}))
        return _default
