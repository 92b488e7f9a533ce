"""Real Flask and FastAPI callback apps on loopback, bare and with the middleware, and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from opentelemetry.instrumentation.wecom.callbacks import WeComASGIMiddleware, WeComWSGIMiddleware
from opentelemetry.instrumentation.wecom.testing import CallbackSimulator
from tests._support import poll
from tests._telemetry import InMemoryTelemetry

from .apps import AGENT_ID, CORP_ID, KEYS, PATH, fastapi_app, flask_app, serve_asgi, serve_wsgi

FRAMEWORKS = ("flask", "fastapi")
_WAIT_S = 10.0


class CallbackTelemetry(InMemoryTelemetry):
    """The real SDK with in-memory exporters; metric collections hold only new points."""

    def __init__(self) -> None:
        super().__init__(delta_histograms=True)

    def reset(self) -> None:
        self.exporter.clear()
        self.reader.get_metrics_data()

    def spans(self, prefix: str = "wecom callback") -> list[ReadableSpan]:
        return super().spans(prefix)

    def wait_for_spans(self, count: int, prefix: str = "wecom callback") -> list[ReadableSpan]:
        """The spans, once ``count`` have ended (the server may end one after answering)."""
        spans = poll(lambda: self.spans(prefix), lambda s: len(s) >= count, _WAIT_S, 0.005)
        assert len(spans) == count, [s.name for s in spans]
        return spans

    def points(self, metric: str) -> list[Any]:
        return [p for p in super().points(metric) if p.count]


@dataclass
class Stack:
    """One framework's callback app served twice: bare, and wrapped in the middleware."""

    framework: str
    bare_url: str
    url: str
    telemetry: CallbackTelemetry

    def simulator(self, base_url: str | None = None, **overrides: Any) -> CallbackSimulator:
        options: dict[str, Any] = {
            "token": KEYS["token"],
            "encoding_aes_key": KEYS["encoding_aes_key"],
            "corp_id": CORP_ID,
            "agent_id": AGENT_ID,
            **overrides,
        }
        return CallbackSimulator(f"{base_url or self.url}{PATH}", **options)


def wrap(framework: str, **options: Any) -> Any:
    """The framework's test app with the middleware installed the way its docs say."""
    if framework == "flask":
        app = flask_app()
        app.wsgi_app = WeComWSGIMiddleware(app.wsgi_app, **options)
        return app
    app = fastapi_app()
    app.add_middleware(WeComASGIMiddleware, **options)
    return app


def serve(framework: str, app: Any) -> Any:
    return serve_wsgi(app) if framework == "flask" else serve_asgi(app)


@pytest.fixture(scope="module", params=FRAMEWORKS)
def served(request: pytest.FixtureRequest) -> Iterator[Stack]:
    framework: str = request.param
    telemetry = CallbackTelemetry()
    bare = flask_app() if framework == "flask" else fastapi_app()
    wrapped = wrap(framework, **KEYS, **telemetry.providers)
    with ExitStack() as stack:
        bare_url = stack.enter_context(serve(framework, bare))
        url = stack.enter_context(serve(framework, wrapped))
        yield Stack(framework, bare_url, url, telemetry)


@pytest.fixture
def stack(served: Stack) -> Stack:
    served.telemetry.reset()
    return served
