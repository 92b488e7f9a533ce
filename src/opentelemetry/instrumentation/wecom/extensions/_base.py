"""The extension lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import RequestJson, ResponseInfo, WeComCall


class Extension:
    """Hooks for one family of WeCom APIs. The default hooks do nothing.

    Both run only while the call's span is recording and are contained by the
    core: an exception in a hook costs its attributes, never the app's call.
    """

    def before_call(self, call: WeComCall, request_json: RequestJson) -> None:
        """Add request attributes. ``request_json()`` parses the body, once, if small."""

    def on_response(self, call: WeComCall, response: ResponseInfo) -> None:
        """Add response attributes and metric points."""
