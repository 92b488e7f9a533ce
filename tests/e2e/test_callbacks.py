"""Callback monitoring end to end: a real Flask app behind the callback middleware exports to the
stack's collector; the bundled recording rules and alerts (collector/prometheus/rules/
wecom-callbacks.yml) read what arrives in Prometheus.

WeCom's simulator (the package's ``CallbackSimulator``) sends one URL verification the app answers
after WeCom's 1 s deadline, one event the app's handler raises on, one event sealed with the wrong
Token and a few good events. Each failure is the first of its kind (a new series), which
``increase()`` alone would not see.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any, Callable

import pytest

from opentelemetry.instrumentation.wecom.callbacks import WeComWSGIMiddleware
from opentelemetry.instrumentation.wecom.testing import CallbackSimulator
from tests._support import poll
from tests.callbacks.apps import AGENT_ID, CORP_ID, KEYS, PATH, flask_app, serve_wsgi
from tests.e2e.conftest import App, Stack

pytestmark = pytest.mark.e2e

#: Over WeCom's 1 s deadline for a URL verification.
SLOW_VERIFICATION_S = 1.3
_runs = itertools.count(1)


def slow_verification(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """``app``, answering URL verifications (GET) only after :data:`SLOW_VERIFICATION_S`."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "GET":
            time.sleep(SLOW_VERIFICATION_S)
        return app(environ, start_response)

    return wrapped


def simulator(url: str, token: str = KEYS["token"]) -> CallbackSimulator:
    """WeCom's pushes, one try each (WeCom's retries would only repeat the same points)."""
    return CallbackSimulator(
        f"{url}{PATH}",
        token=token,
        encoding_aes_key=KEYS["encoding_aes_key"],
        corp_id=CORP_ID,
        agent_id=AGENT_ID,
        tries=1,
        verify_timeout=SLOW_VERIFICATION_S + 5,
    )


def test_late_failed_and_forged_callbacks_reach_the_rules_and_the_alerts(stack: Stack) -> None:
    service = f"e2e-callbacks-{next(_runs)}-{int(time.time()) % 100_000}"
    app = App(service, stack.otlp_endpoint, {})
    flask = flask_app()
    flask.wsgi_app = WeComWSGIMiddleware(  # type: ignore[method-assign]
        slow_verification(flask.wsgi_app),
        **KEYS,
        tracer_provider=app.tracer_provider,
        meter_provider=app.meter_provider,
    )
    try:
        with serve_wsgi(flask) as url:
            wecom = simulator(url)
            assert wecom.verify_url().ok
            for _ in range(3):
                assert wecom.push_event("click", EventKey="menu_1").delivered
            assert not wecom.push_event("boom").delivered  # the handler raises: HTTP 500
            forged = simulator(url, token="not-the-token")
            # Sealed with another Token: the middleware records bad_signature, the app says 403.
            assert not forged.push_event("click").delivered
        app.flush()
    finally:
        app.shutdown()

    prometheus = stack.prometheus
    job = f'job="{service}"'
    expected = {
        f'wecom_callback:late:increase10m{{{job}, wecom_callback_event="url_verification"}}': 1.0,
        f"wecom_callback_error:callbacks:increase10m{{{job}}}": 1.0,
        f'wecom_callback_outcome:callbacks:increase10m{{{job}, wecom_callback_outcome="ok"}}': 5.0,
        (
            "wecom_callback_outcome:callbacks:increase10m"
            f'{{{job}, wecom_callback_outcome="bad_signature"}}'
        ): 1.0,
    }

    def recorded() -> dict[str, float]:
        found = {}
        for query in expected:
            values = [float(sample["value"][1]) for sample in prometheus.query(query)]
            found[query] = sum(values) if values else -1.0
        return found

    assert poll(recorded, lambda found: found == expected, timeout=30) == expected
    # The late verification is the only late callback; the click events were answered in time.
    late = prometheus.values(f"wecom_callback:late:increase10m{{{job}}}", "wecom_callback_event")
    assert {event: count for event, count in late.items() if count} == {("url_verification",): 1.0}
    assert ("click",) in late

    def states() -> dict[str, str]:
        return {
            alert["labels"]["alertname"]: alert["state"]
            for alert in prometheus.alerts()
            if alert["labels"].get("job") == service
        }

    both = {"WeComCallbackLate": "firing", "WeComCallbackHandlerFailing": "firing"}
    alerts = poll(states, lambda found: both.items() <= found.items(), 30)
    assert both.items() <= alerts.items()
    # One forged callback among five genuine ones is no configuration mismatch: not even pending.
    assert "WeComCallbackChecksFailing" not in alerts
