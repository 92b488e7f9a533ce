"""The semantic-convention ``exception`` event, scrubbed of secrets and encodable.

One helper for every span that records the exception the app saw: a WeCom call's
(``_call``) and a callback's (``_callbacks.record``).
"""

from __future__ import annotations

import traceback
from typing import Callable

from opentelemetry.util.types import AttributeValue

from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom._encodable import encodable_attributes


def exception_event_attributes(
    exception: BaseException, scrub: Callable[[str], str]
) -> dict[str, AttributeValue]:
    """Type, message and stack trace of ``exception``; the texts passed through ``scrub``."""
    stacktrace = "".join(
        traceback.format_exception(type(exception), exception, exception.__traceback__)
    )
    attributes: dict[str, AttributeValue] = {
        attr.EXCEPTION_TYPE: type(exception).__qualname__,
        attr.EXCEPTION_MESSAGE: scrub(str(exception)),
        attr.EXCEPTION_STACKTRACE: scrub(stacktrace),
        attr.EXCEPTION_ESCAPED: True,
    }
    encodable_attributes(attributes)
    return attributes
