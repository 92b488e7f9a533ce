"""``media/get``: a binary download on success, a JSON errcode body on failure.

The binary body is never parsed (the core only looks for an errcode in JSON
or text bodies); the span gets the media type and size from the headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.util.types import AttributeValue

from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom._body import is_textual, media_type
from opentelemetry.instrumentation.wecom._extensions._base import _Extension

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import ResponseInfo, WeComCall


class _MediaDownloadExtension(_Extension):
    def on_response(
        self, call: WeComCall, response: ResponseInfo, attributes: dict[str, AttributeValue]
    ) -> None:
        kind = media_type(response.content_type)
        if not kind or is_textual(kind):
            return  # an errcode body, described by the core
        attributes[attr.WECOM_MEDIA_CONTENT_TYPE] = kind
        if response.content_length is not None:
            attributes[attr.WECOM_MEDIA_SIZE] = response.content_length
