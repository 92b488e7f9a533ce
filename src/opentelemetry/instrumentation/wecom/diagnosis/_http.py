"""GET a JSON answer from a query API, turning every way it can fail into one clear line.

Shared by the Jaeger and Prometheus clients. Standard library only (the core package depends on
no HTTP client). Loopback hosts bypass any proxy configured in the environment; credentials in a
URL (``http://user:pass@host``) become a Basic ``Authorization`` header and never appear in a
message.
"""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional

from opentelemetry.instrumentation.wecom.diagnosis._errors import BackendUnavailable

# A larger answer is refused rather than held in memory (a trace of ~100k spans).
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_PROXIED = urllib.request.build_opener()


@dataclass(frozen=True)
class Answer:
    """An answer's HTTP status and decoded JSON body (None: an error status without JSON)."""

    status: int
    payload: Any


@dataclass(frozen=True)
class Endpoint:
    """A backend's base URL, split into what is shown (no credentials) and what authenticates."""

    backend: str
    url: str
    authorization: Optional[str]
    hint: str

    @classmethod
    def parse(cls, backend: str, url: str, hint: str = "") -> Endpoint:
        """``url`` without a trailing slash and without credentials; ValueError when unusable."""
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{backend} URL must look like http://HOST:PORT, got {_shown(url)!r}")
        authorization = None
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            pair = f"{user}:{urllib.parse.unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port is not None:
            netloc += f":{parts.port}"
        clean = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        return cls(backend, clean, authorization, hint)

    def unavailable(self, reason: str) -> BackendUnavailable:
        return BackendUnavailable(self.backend, self.url, reason, self.hint)

    def get_json(self, path: str, params: Optional[dict[str, str]], timeout: float) -> Answer:
        """GET ``path`` (with ``params``) and decode its JSON body.

        Raises :class:`BackendUnavailable` when nothing answers, the answer is late, too large or
        not JSON. An HTTP error status is returned, for the caller to judge.
        """
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.authorization:
            request.add_header("Authorization", self.authorization)
        host = urllib.parse.urlsplit(self.url).hostname or ""
        opener = _DIRECT if host in _LOOPBACK else _PROXIED
        try:
            with opener.open(request, timeout=timeout) as response:
                status, body = response.status, _read(response)
        except urllib.error.HTTPError as error:
            status, body = error.code, _read(error)
        except urllib.error.URLError as error:
            raise self.unavailable(_reason(error.reason, timeout)) from None
        except (OSError, ValueError) as error:  # timeouts while reading, resets, bad URLs
            raise self.unavailable(_reason(error, timeout)) from None
        if body is None:
            raise self.unavailable(f"the answer to {path} is larger than {MAX_ANSWER_BYTES} bytes")
        try:
            payload = json.loads(body)
        except ValueError:
            if status >= 400:  # e.g. a plain "404 page not found": the caller judges
                return Answer(status, None)
            raise self.unavailable(
                f"{path} answered HTTP {status} with something that is not JSON "
                f"({_preview(body)}); is this the {self.backend} query API?"
            ) from None
        return Answer(status, payload)


def _read(response: Any) -> Optional[bytes]:
    data: bytes = response.read(MAX_ANSWER_BYTES + 1)
    return None if len(data) > MAX_ANSWER_BYTES else data


def _reason(error: object, timeout: float) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    return " ".join(str(error).split()) or type(error).__name__


def _preview(body: bytes, limit: int = 60) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    if not text:
        return "an empty body"
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _shown(url: str) -> str:
    """``url`` with any credentials masked, for error messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, f"***@{host}", parts.path, "", ""))
