"""``gettoken`` and the suite/provider token APIs: how long the new token lives.

The token itself is in the response body and is never read into telemetry;
only ``expires_in`` is, which shows tokens that WeCom shortened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.util.types import AttributeValue

from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom._extensions._base import _Extension

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import ResponseInfo, WeComCall


class _TokenExtension(_Extension):
    def on_response(
        self, call: WeComCall, response: ResponseInfo, attributes: dict[str, AttributeValue]
    ) -> None:
        payload = response.json()
        if payload is None:
            return
        expires_in = payload.get("expires_in")
        if isinstance(expires_in, int) and not isinstance(expires_in, bool):
            attributes[attr.WECOM_TOKEN_EXPIRES_IN] = expires_in
