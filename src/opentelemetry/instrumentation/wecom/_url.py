"""A request URL as the core sees it: split once by the adapter, with one rule for default ports."""

from __future__ import annotations

from typing import Final, NamedTuple, Optional
from urllib.parse import urlsplit

DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def default_port(scheme: str) -> int:
    """The port a URL without one uses: 80 for ``http``, 443 otherwise (WeCom is HTTPS)."""
    return DEFAULT_PORTS.get(scheme, 443)


class RequestTarget(NamedTuple):
    """A request URL split once, by the transport adapter that saw it."""

    scheme: str
    host: str
    port: int
    path: str
    query: str


def target_of(url: str) -> Optional[RequestTarget]:
    """``url`` split into a :class:`RequestTarget`, or ``None`` when it has no host."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return None
    port = parts.port or default_port(parts.scheme)
    return RequestTarget(parts.scheme, host, port, parts.path, parts.query)
