"""Middleware options: clear errors at construction, and what each option changes."""

from __future__ import annotations

import sys

import pytest

from opentelemetry.instrumentation.wecom.callbacks import WeComASGIMiddleware, WeComWSGIMiddleware
from opentelemetry.instrumentation.wecom.crypto import WeComCryptoError, require_cryptography

from . import wire
from .apps import AGENT_ID, KEYS, PATH
from .conftest import FRAMEWORKS, CallbackTelemetry, serve, wrap


def nothing(*args: object) -> None:
    return None


@pytest.mark.parametrize("middleware", [WeComWSGIMiddleware, WeComASGIMiddleware])
def test_keys_come_together_or_not_at_all(middleware: type) -> None:
    with pytest.raises(ValueError, match="together"):
        middleware(nothing, token="t", encoding_aes_key=KEYS["encoding_aes_key"])


def test_a_malformed_aes_key_fails_at_construction() -> None:
    with pytest.raises(WeComCryptoError, match="43 characters"):
        WeComWSGIMiddleware(nothing, **{**KEYS, "encoding_aes_key": "short"})


def test_missing_cryptography_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers", None)
    line = r"pip install 'opentelemetry-instrumentation-wecom\[crypto\]'"
    with pytest.raises(ImportError, match=line):
        require_cryptography()
    with pytest.raises(ImportError, match=line):
        WeComASGIMiddleware(nothing, **KEYS)
    WeComASGIMiddleware(nothing)  # without keys nothing is decrypted: no extra needed


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_without_keys_callbacks_are_recorded_unverified(framework: str) -> None:
    telemetry = CallbackTelemetry()
    with serve(framework, wrap(framework, **telemetry.providers)) as url:
        assert wire.push(wire.event_xml("click")).send(url).status == 200
        assert wire.verification().send(url).status == 200
        spans = telemetry.wait_for_spans(2)
    by_event = {str((s.attributes or {})["wecom.callback.event"]): s for s in spans}
    push = by_event["_UNKNOWN"]
    assert push.name == "wecom callback"
    assert (push.attributes or {})["wecom.callback.outcome"] == "unverified"
    assert (push.attributes or {})["wecom.agent_id"] == AGENT_ID  # from the plaintext envelope
    assert (by_event["url_verification"].attributes or {})["wecom.callback.outcome"] == "unverified"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_paths_limit_the_middleware_to_those_paths(framework: str) -> None:
    telemetry = CallbackTelemetry()
    app = wrap(framework, **KEYS, paths=["/another/callback"], **telemetry.providers)
    with serve(framework, app) as url:
        assert wire.push(wire.event_xml("click")).send(url).status == 200
    assert telemetry.spans() == []
    assert PATH != "/another/callback"
