"""Keeping WeCom secrets inside the process.

Two tools: :func:`redacted_url` rebuilds a request URL with the value of every
secret query parameter replaced by ``REDACTED`` (the key stays visible, as the
URL semantic conventions ask), and :func:`scrub` cleans free text such as an
exception message or an errmsg, which may embed a URL or echo a secret value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote

from opentelemetry.instrumentation.wecom._url import RequestTarget, default_port

REDACTED: Final = "REDACTED"

SECRET_PARAMS: Final = (
    "access_token",
    "corpsecret",
    "secret",
    "key",
    "suite_access_token",
    "provider_access_token",
    "provider_secret",
    "suite_secret",
    "suite_ticket",
    "permanent_code",
    "pre_auth_code",
    "auth_code",
    "code",
    "js_code",
    "user_ticket",
    "ticket",
    "session_key",
    "jsapi_ticket",
    "token",
    "echostr",
)
"""Query parameters and body fields that carry credentials or one-time codes.

The one list of them: docs/telemetry.md and the collector's scrub statements are
checked against (or generated from) it. Names are lower case; matching ignores case.
"""

_SECRET_NAMES: Final = frozenset(SECRET_PARAMS)


def redacted_url(target: RequestTarget, extra_params: frozenset[str] = frozenset()) -> str:
    """The URL of ``target`` with secret query values replaced by ``REDACTED``.

    User info is never included, and the query is rebuilt pair by pair without
    re-encoding, so everything that is not a secret reads exactly as sent.
    """
    netloc = (
        target.host
        if target.port == default_port(target.scheme)
        else f"{target.host}:{target.port}"
    )
    url = f"{target.scheme}://{netloc}{target.path}"
    if not target.query:
        return url
    pairs = []
    for pair in target.query.split("&"):
        name = pair.partition("=")[0]
        if is_secret_param(unquote(name), extra_params):
            pairs.append(f"{name}={REDACTED}")
        else:
            pairs.append(pair)
    return f"{url}?{'&'.join(pairs)}"


def secret_values(query: str, extra_params: frozenset[str] = frozenset()) -> list[str]:
    """The values of secret parameters in ``query``, raw and percent-decoded."""
    values: list[str] = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if value and is_secret_param(unquote(name), extra_params):
            values.append(value)
            decoded = unquote(value)
            if decoded != value:
                values.append(decoded)
    return values


def is_secret_param(name: str, extra_params: frozenset[str] = frozenset()) -> bool:
    """Whether a query parameter or body field called ``name`` carries a secret."""
    return name.lower() in _SECRET_NAMES or name in extra_params


TOKEN_VALUE: Final = r"[A-Za-z0-9_\-+/=~]{16,}"
"""A value shaped like a credential: 16 or more token characters (words, IP addresses and
hints are shorter or hold other characters). The collector's scrub uses it too."""


@functools.lru_cache(maxsize=8)
def _secret_pattern(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(name) for name in names), key=len, reverse=True))
    # `name=value` in URLs and form bodies, `"name": "value"` in JSON (also escaped, as in
    # `{\"name\": \"value\"}` when an exception quotes raw bytes), `name: value` in logs.
    # A backslash belongs to the value unless it escapes the closing quote.
    assigned = r"""(\\*["']?\s*[=:]\s*\\*["']?)((?:[^&\s"',;#)}\]\\]|\\(?!\\*["']))+)"""
    # Or `access_token is invalid or not latest: value`: words of the same clause (no
    # punctuation between), a colon, then a value shaped like a credential (16 or more
    # token characters, so that words, IP addresses and hints are left alone).
    phrased = rf"""(\s+[A-Za-z][A-Za-z ]{{0,48}}?\s*[=:]\s*["']?)({TOKEN_VALUE})"""
    # One alternation, so that the text is scanned for the names once.
    return re.compile(rf"(?i)(?<![A-Za-z0-9_])({alternatives})(?:{assigned}|{phrased})")


def scrub(
    text: str,
    known_values: Iterable[str] = (),
    extra_params: frozenset[str] = frozenset(),
) -> str:
    """Remove secrets from free text.

    ``known_values`` are the literal secrets of the current call (taken from its
    URL); they are replaced wherever they appear, whatever surrounds them.
    """
    for value in known_values:
        if len(value) >= 4:
            text = text.replace(value, REDACTED)
    return _secret_pattern(_SECRET_NAMES | extra_params).sub(_keep_name, text)


def _keep_name(match: re.Match[str]) -> str:
    """The name and what joins it to its value, then ``REDACTED`` for the value."""
    joint = match.group(2) if match.group(2) is not None else match.group(4)
    return f"{match.group(1)}{joint}{REDACTED}"
