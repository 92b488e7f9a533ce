"""The options the WSGI and ASGI middleware share, declared once."""

from __future__ import annotations

from collections.abc import Collection
from typing import Generic, Optional, TypeVar

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from opentelemetry.instrumentation.wecom._callbacks.record import (
    DEFAULT_MAX_BODY_BYTES,
    CallbackRecorder,
)

App = TypeVar("App")


class CallbackMiddleware(Generic[App]):
    """Records the WeCom callbacks an app receives; every other request passes untouched.

    ``token``, ``encoding_aes_key`` and ``receive_id`` (the CorpID; a suite's SuiteId) are the
    app's callback settings: with them the middleware checks the signature and decrypts the
    event (needs the ``crypto`` extra); without them it records the callback unverified and
    without its event type. ``paths`` limits it to those request paths (default: any path
    whose query carries WeCom's signature parameters). Bodies over ``max_body_bytes`` are
    passed to the app unread. ``tracer_provider`` / ``meter_provider`` default to the globals.
    Bad options raise at construction; nothing raises once requests flow.
    """

    def __init__(
        self,
        app: App,
        *,
        token: Optional[str] = None,
        encoding_aes_key: Optional[str] = None,
        receive_id: Optional[str] = None,
        paths: Optional[Collection[str]] = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        tracer_provider: Optional[TracerProvider] = None,
        meter_provider: Optional[MeterProvider] = None,
    ) -> None:
        self.app = app
        self._recorder = CallbackRecorder(
            token=token,
            encoding_aes_key=encoding_aes_key,
            receive_id=receive_id,
            paths=paths,
            max_body_bytes=max_body_bytes,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
