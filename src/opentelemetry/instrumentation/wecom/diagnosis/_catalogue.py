"""The catalogue of WeCom fault patterns: which cause a failed call points to, and how specific.

``docs/diagnosis.md`` describes each cause: how it is detected, the evidence it needs and its
false-positive risks. The ids are the contract in ``_model.CAUSES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opentelemetry.instrumentation.wecom._extensions import MESSAGE_SEND_APIS, TOKEN_APIS
from opentelemetry.instrumentation.wecom.diagnosis._observe import FailureKind
from opentelemetry.instrumentation.wecom.errcodes import classify

#: Access-token errcodes that a refresh cures (access_token, suite_access_token).
REFRESHABLE: Final = frozenset({42001, 40014, 42009, 40082})
#: The token is absent from the request: a client bug, not an expiry.
TOKEN_MISSING: Final = frozenset({41001, 41022})
#: Errcodes of message APIs that mean "these recipients cannot be reached".
RECIPIENT_ERRCODES: Final = frozenset({81013, 60111, 46004, 40031, 60021, 92000, 50002})
#: A group robot whose webhook key is wrong or that was removed from its group.
ROBOT_GONE: Final = 93000

#: WeCom's documented frequency limit: calls per minute per corp per API.
API_LIMIT_PER_MINUTE: Final = 10_000
#: A group robot takes 20 messages per minute.
ROBOT_LIMIT_PER_MINUTE: Final = 20
ROBOT_API: Final = "webhook/send"
#: How long an access_token lives (``expires_in``), in seconds.
TOKEN_LIFETIME: Final = 7200.0


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    specificity: float


_CAUSES: Final = (
    Cause("ip_not_trusted", "egress IP not trusted by WeCom", 1.0),
    Cause("token_refresh_failing", "access_token refresh (gettoken) failing", 1.0),
    Cause("rate_limited", "WeCom rate limit", 0.95),
    Cause("token_expired", "expired access_token still in use", 0.9),
    Cause("recipients_unreachable", "message recipients unreachable", 0.9),
    Cause("permission_denied", "app lacks permission", 0.9),
    Cause("token_overfetch", "access_token not cached", 0.85),
    Cause("invalid_request", "invalid requests (client bug)", 0.8),
    Cause("wecom_unavailable", "WeCom unavailable", 0.75),
    Cause("network_error", "network failure between the app and WeCom", 0.7),
    Cause("telemetry_loss", "telemetry pipeline losing data", 0.7),
    Cause("latency_degradation", "WeCom calls slow", 0.6),
    Cause("unexplained", "anomaly without a known pattern", 0.3),
)
CATALOGUE: Final[dict[str, Cause]] = {cause.id: cause for cause in _CAUSES}


def http_status(error_type: str | None) -> int | None:
    """The HTTP status an ``error.type`` names (``"502"``), None for exception names."""
    if error_type and error_type.isdigit() and len(error_type) == 3:
        return int(error_type)
    return None


#: What an errcode's category points to once the API-specific rules did not decide.
_BY_CATEGORY: Final = {
    "ip_whitelist": "ip_not_trusted",
    "rate_limit": "rate_limited",
    "system": "wecom_unavailable",
    "auth": "token_refresh_failing",  # a wrong corpid/secret seen on a business API
    "permission": "permission_denied",
    "invalid_param": "invalid_request",
    "not_found": "invalid_request",
}
#: Categories that decide the cause whatever the API (the token API included).
_ANY_API: Final = frozenset({"ip_whitelist", "rate_limit", "system"})
_BY_ERRCODE: Final = {
    **dict.fromkeys(REFRESHABLE, "token_expired"),
    **dict.fromkeys(TOKEN_MISSING, "invalid_request"),
    ROBOT_GONE: "permission_denied",
}


def _without_errcode(error_type: str | None) -> str:
    status = http_status(error_type)
    if status is None:
        return "network_error"  # an exception: connect, read, DNS, TLS, reset
    if status >= 500:
        return "wecom_unavailable"
    return "rate_limited" if status == 429 else "invalid_request"


def classify_failure(kind: FailureKind) -> str:
    """The cause that failed calls of ``kind`` point to, most specific rule first.

    Quota and other errcodes match no pattern: ``unexplained``, with the knowledge base's
    advice.
    """
    code = kind.errcode
    if code is None:
        return _without_errcode(kind.error_type)
    category, _ = classify(code)
    if category in _ANY_API:
        return _BY_CATEGORY[category]
    if kind.api in TOKEN_APIS:
        return "token_refresh_failing"
    if kind.api in MESSAGE_SEND_APIS and code in RECIPIENT_ERRCODES:
        return "recipients_unreachable"
    return _BY_ERRCODE.get(code) or _BY_CATEGORY.get(category, "unexplained")
