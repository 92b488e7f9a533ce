"""The extension lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.util.types import AttributeValue

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import RequestBody, ResponseInfo, WeComCall


class _Extension:
    """Hooks for one family of WeCom APIs. The default hooks do nothing.

    Both run only while the call's span is recording and are contained by the
    core: an exception in a hook costs its attributes, never the app's call.
    Attributes go into the dict the core passes, which it sets on the span in
    one call with its own.
    """

    def before_call(
        self, call: WeComCall, request_body: RequestBody, attributes: dict[str, AttributeValue]
    ) -> None:
        """Add request attributes to ``attributes``; ``request_body()`` is the body if in memory."""

    def on_response(
        self, call: WeComCall, response: ResponseInfo, attributes: dict[str, AttributeValue]
    ) -> None:
        """Add response attributes to ``attributes``, and metric points."""
