"""The extension lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from opentelemetry.util.types import AttributeValue

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import RequestBody, ResponseInfo, WeComCall
    from opentelemetry.instrumentation.wecom._verdict import Verdict


class _Extension:
    """Hooks for one family of WeCom APIs. The default hooks do nothing.

    ``before_call`` and ``on_response`` run only while the call's span is
    recording; ``on_finish`` runs for every call that records its metric point,
    sampled or not, so the points it records do not depend on sampling. All are
    contained by the core: an exception in a hook costs its attributes and
    points, never the app's call. Attributes go into the dict the core passes,
    which it sets on the span (if recording) in one call with its own.
    """

    def before_call(
        self, call: WeComCall, request_body: RequestBody, attributes: dict[str, AttributeValue]
    ) -> None:
        """Add request attributes to ``attributes``; ``request_body()`` is the body if in memory."""

    def on_response(
        self, call: WeComCall, response: ResponseInfo, attributes: dict[str, AttributeValue]
    ) -> None:
        """Add response attributes to ``attributes`` (metric points belong in ``on_finish``)."""

    def on_finish(
        self,
        call: WeComCall,
        judged: Verdict,
        response: Optional[ResponseInfo],
        attributes: dict[str, AttributeValue],
    ) -> None:
        """Record the API's own metric points once the outcome is known; add span attributes.

        ``response`` is ``None`` when the call raised or returned no response;
        ``call.request_bytes()`` is the request body if the client holds it in memory.
        """
