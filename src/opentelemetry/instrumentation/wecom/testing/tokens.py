"""Access tokens: one live token reused while valid, early expiry and scheduled invalidation."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .scenario import TokenPolicy

_MAX_KNOWN_TOKENS = 1000


@dataclass
class _Token:
    issued_at: float
    dies_at: float
    revoked: bool = False


class TokenStore:
    """Issues and checks access tokens against a :class:`TokenPolicy`.

    Times are on the server clock (seconds since the scenario started). Dead tokens stay known
    so they answer ``expired_errcode`` (42001) rather than 40014.
    """

    def __init__(self, clock: Callable[[], float], expires_in: int, policy: TokenPolicy) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, _Token] = OrderedDict()
        self.configure(expires_in, policy)

    def configure(self, expires_in: int, policy: TokenPolicy) -> None:
        with self._lock:
            self._expires_in = policy.expires_in or expires_in
            self._lifetime = policy.lifetime if policy.lifetime is not None else self._expires_in
            self._expire_at = sorted(policy.expire_at)
            self.expired_errcode = policy.expired_errcode
            self._tokens.clear()

    def issue(self) -> tuple[str, int]:
        """Return the live token (creating one if needed) and the ``expires_in`` to report."""
        with self._lock:
            now = self._clock()
            for value, token in reversed(self._tokens.items()):
                if self._alive(token, now):
                    return value, max(1, round(self._expires_in - (now - token.issued_at)))
                break
            value = secrets.token_urlsafe(96)
            self._tokens[value] = _Token(issued_at=now, dies_at=now + self._lifetime)
            while len(self._tokens) > _MAX_KNOWN_TOKENS:
                self._tokens.popitem(last=False)
            return value, self._expires_in

    def check(self, value: str) -> int | None:
        """None if ``value`` is a live token, else 40014 (unknown) or the expired errcode."""
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                return 40014
            return None if self._alive(token, self._clock()) else self.expired_errcode

    def expire_all(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    def _alive(self, token: _Token, now: float) -> bool:
        if token.revoked or now >= token.dies_at:
            return False
        return not any(token.issued_at < t <= now for t in self._expire_at)
