"""Errors a diagnosis reports to its caller instead of a traceback."""

from __future__ import annotations


class BackendUnavailable(RuntimeError):
    """A metrics or traces backend could not be reached or answered garbage.

    ``str()`` is one line that names the backend, the URL and what to do, ready for the CLI
    (exit status 2) and never carrying a secret.
    """

    def __init__(self, backend: str, url: str, reason: str, hint: str = "") -> None:
        self.backend = backend
        self.url = url
        self.reason = reason
        self.hint = hint
        message = f"{backend} at {url} is unavailable: {reason}"
        super().__init__(f"{message}. {hint}" if hint else message)
