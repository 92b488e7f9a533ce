"""Names and values of the telemetry contract (docs/telemetry.md), each defined once.

They are a public, stable contract: dashboards, alert rules and the collector
bundle select on them. Change them only with a deprecation period. This is the
one internal module the tools (demo, benchmarks, diagnosis) import: the names
they read back from the exported data.
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
WECOM_MESSAGE_TASK_ID: Final = "wecom.message.task_id"

# Retries and token refreshes (docs/telemetry.md, "Retries and token refreshes").
WECOM_RETRY_ATTEMPT: Final = "wecom.retry.attempt"
WECOM_RETRY_REASON: Final = "wecom.retry.reason"
WECOM_TOKEN_REFRESH_REASON: Final = "wecom.token.refresh.reason"

# Message budgets and silent discards (docs/telemetry.md, "Messages").
WECOM_MESSAGE_RECIPIENTS_PREFIX: Final = "wecom.message.recipients."
WECOM_MESSAGE_DISCARDED: Final = "wecom.message.discarded"
WECOM_MESSAGE_LIMIT: Final = "wecom.message.limit"

# Callbacks: WeCom calling the app's callback URL (the callback middleware).
WECOM_CALLBACK_EVENT: Final = "wecom.callback.event"
WECOM_CALLBACK_OUTCOME: Final = "wecom.callback.outcome"
WECOM_CALLBACK_CRYPTO_ERROR: Final = "wecom.callback.crypto_error"
WECOM_CALLBACK_CHANGE_TYPE: Final = "wecom.callback.change_type"
WECOM_CALLBACK_CARD_TYPE: Final = "wecom.callback.card_type"
WECOM_CALLBACK_EVENT_KEY: Final = "wecom.callback.event_key"

# Semantic-convention attributes (stable HTTP and error conventions).
ERROR_TYPE: Final = "error.type"
HTTP_REQUEST_METHOD: Final = "http.request.method"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
URL_FULL: Final = "url.full"
URL_PATH: Final = "url.path"

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

# Values of `wecom.token.refresh.reason` besides an errcode: no auth error came before.
TOKEN_REFRESH_PROACTIVE: Final = "proactive"

# Values of `wecom.recipient.kind` in `wecom.message.recipients` (message/send's fields).
RECIPIENT_USER: Final = "user"
RECIPIENT_PARTY: Final = "party"
RECIPIENT_TAG: Final = "tag"
RECIPIENT_ALL: Final = "all"

# Values of `wecom.callback.outcome`: what the signature check and decryption found.
CALLBACK_OK: Final = "ok"
CALLBACK_UNVERIFIED: Final = "unverified"
CALLBACK_BAD_SIGNATURE: Final = "bad_signature"
CALLBACK_WRONG_RECEIVER: Final = "wrong_receiver"
CALLBACK_DECRYPT_FAILED: Final = "decrypt_failed"
CALLBACK_MALFORMED: Final = "malformed"
CALLBACK_UNREAD: Final = "unread"

# Values of `wecom.callback.event` that are not WeCom's own.
CALLBACK_URL_VERIFICATION: Final = "url_verification"
CALLBACK_UNKNOWN_EVENT: Final = "_UNKNOWN"

# Instruments.
DURATION_METRIC: Final = "wecom.client.duration"
# WeCom answers in tens of milliseconds when healthy and is given up on by
# clients after a few seconds: 5 ms to 10 s, the semconv RPC/HTTP boundaries.
DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
INVALID_RECIPIENTS_METRIC: Final = "wecom.message.invalid_recipients"
CALLBACK_DURATION_METRIC: Final = "wecom.callback.duration"
CALLBACK_DELAY_METRIC: Final = "wecom.message.callback_delay"
RETRIES_METRIC: Final = "wecom.client.retries"
TOKEN_REFRESHES_METRIC: Final = "wecom.token.refreshes"
RECIPIENTS_METRIC: Final = "wecom.message.recipients"
DISCARDED_METRIC: Final = "wecom.message.discarded"

# Value used for `wecom.api` when a path is malformed or over the cardinality cap, and for
# `wecom.agent_id` on metrics beyond the cap of distinct agent ids.
OTHER_API: Final = "_OTHER"
