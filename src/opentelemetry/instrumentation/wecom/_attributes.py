"""Names of the attributes and instruments in the telemetry contract (docs/telemetry.md).

They are a public, stable contract: dashboards, alert rules and the collector
bundle select on them. Change them only with a deprecation period.
"""

from __future__ import annotations

from typing import Final

# Span and metric attributes in the `wecom.*` namespace.
WECOM_API: Final = "wecom.api"
WECOM_ERRCODE: Final = "wecom.errcode"
WECOM_ERRMSG: Final = "wecom.errmsg"
WECOM_STATUS: Final = "wecom.status"
WECOM_ERROR_CATEGORY: Final = "wecom.error.category"
WECOM_ERROR_RETRYABLE: Final = "wecom.error.retryable"
WECOM_MESSAGE_MSGTYPE: Final = "wecom.message.msgtype"
WECOM_AGENT_ID: Final = "wecom.agent_id"
WECOM_MESSAGE_PARTIAL_FAILURE: Final = "wecom.message.partial_failure"
WECOM_MESSAGE_INVALID_PREFIX: Final = "wecom.message.invalid."
WECOM_RECIPIENT_KIND: Final = "wecom.recipient.kind"
WECOM_TOKEN_EXPIRES_IN: Final = "wecom.token.expires_in"
WECOM_MEDIA_CONTENT_TYPE: Final = "wecom.media.content_type"
WECOM_MEDIA_SIZE: Final = "wecom.media.size"

# Semantic-convention attributes (stable HTTP and error conventions).
ERROR_TYPE: Final = "error.type"
HTTP_REQUEST_METHOD: Final = "http.request.method"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
URL_FULL: Final = "url.full"

# The semantic-convention `exception` event.
EXCEPTION_EVENT: Final = "exception"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
EXCEPTION_ESCAPED: Final = "exception.escaped"

# Values of `wecom.status`.
STATUS_OK: Final = "ok"
STATUS_BUSINESS_ERROR: Final = "business_error"
STATUS_SYSTEM_ERROR: Final = "system_error"

# Instruments.
DURATION_METRIC: Final = "wecom.client.duration"
INVALID_RECIPIENTS_METRIC: Final = "wecom.message.invalid_recipients"

# Value used for `wecom.api` when a path is malformed or over the cardinality cap.
OTHER_API: Final = "_OTHER"
