"""Options from keyword arguments and environment variables."""

from __future__ import annotations

import logging

import pytest

from opentelemetry.instrumentation.wecom._settings import Settings, resolve_settings


def test_defaults() -> None:
    settings = resolve_settings({}, {})
    assert settings == Settings()
    assert settings.is_wecom_host("qyapi.weixin.qq.com", 443)
    assert not settings.is_wecom_host("example.com", 443)


def test_hosts_from_env_and_kwargs() -> None:
    env = {"OTEL_PYTHON_WECOM_HOSTS": " Proxy.Example.com , 127.0.0.1:8080 "}
    settings = resolve_settings({}, env)
    assert settings.is_wecom_host("proxy.example.com", 443)
    assert settings.is_wecom_host("127.0.0.1", 8080)
    assert not settings.is_wecom_host("127.0.0.1", 8081)
    assert not settings.is_wecom_host("qyapi.weixin.qq.com", 443)
    assert resolve_settings({"hosts": ["a.example"]}, env).hosts == frozenset({"a.example"})


def test_flags_and_numbers_from_env() -> None:
    env = {
        "OTEL_PYTHON_WECOM_KEEP_HTTP_SPANS": "true",
        "OTEL_PYTHON_WECOM_CALL_LOG": "1",
        "OTEL_PYTHON_WECOM_MAX_APIS": "7",
        "OTEL_PYTHON_WECOM_REDACT_PARAMS": "sign,nonce",
    }
    settings = resolve_settings({}, env)
    assert settings.keep_http_spans
    assert settings.call_log
    assert settings.max_apis == 7
    assert settings.extra_redact_params == frozenset({"sign", "nonce"})


def test_malformed_env_warns_and_uses_defaults(caplog: pytest.LogCaptureFixture) -> None:
    env = {"OTEL_PYTHON_WECOM_MAX_APIS": "lots", "OTEL_PYTHON_WECOM_CALL_LOG": "maybe"}
    with caplog.at_level(logging.WARNING):
        settings = resolve_settings({}, env)
    assert settings.max_apis == 100
    assert settings.call_log is False
    assert "OTEL_PYTHON_WECOM_MAX_APIS" in caplog.text
    assert "OTEL_PYTHON_WECOM_CALL_LOG" in caplog.text


def test_malformed_kwargs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="max_apis"):
        resolve_settings({"max_apis": -1}, {})
    with pytest.raises(TypeError, match="True or False"):
        resolve_settings({"keep_http_spans": "yes"}, {})
    with pytest.raises(TypeError, match="list of strings"):
        resolve_settings({"hosts": 42}, {})


def test_retry_window_and_member_cap_from_env_and_kwargs() -> None:
    env = {
        "OTEL_PYTHON_WECOM_RETRY_WINDOW": "12.5",
        "OTEL_PYTHON_WECOM_MAX_TRACKED_MEMBERS": "500",
    }
    settings = resolve_settings({}, env)
    assert settings.retry_window == 12.5
    assert settings.max_tracked_members == 500
    chosen = resolve_settings({"retry_window": 0, "max_tracked_members": 0}, env)
    assert chosen.retry_window == 0.0  # 0 turns retry and refresh chains off
    assert chosen.max_tracked_members == 0  # 0 turns silent-discard tracking off
    defaults = resolve_settings({}, {})
    assert (defaults.retry_window, defaults.max_tracked_members) == (60.0, 10_000)


@pytest.mark.parametrize("raw", ["-1", "soon", "nan", "inf"])
def test_malformed_retry_window_env_warns(raw: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = resolve_settings({}, {"OTEL_PYTHON_WECOM_RETRY_WINDOW": raw})
    assert settings.retry_window == 60.0
    assert "OTEL_PYTHON_WECOM_RETRY_WINDOW" in caplog.text


def test_malformed_retry_window_and_member_cap_kwargs_raise() -> None:
    with pytest.raises(ValueError, match="retry_window"):
        resolve_settings({"retry_window": -5}, {})
    with pytest.raises(ValueError, match="retry_window"):
        resolve_settings({"retry_window": "60"}, {})
    with pytest.raises(ValueError, match="max_tracked_members"):
        resolve_settings({"max_tracked_members": 1.5}, {})
