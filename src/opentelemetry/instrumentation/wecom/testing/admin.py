"""The admin endpoint under ``/__admin__/``: run-time faults, the call log, resets.

Admin requests are answered with plain JSON (no errcode) and are not recorded as calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .scenario import Fault, RateLimit, Scenario, ScenarioError
from .wire import Reply, json_reply

if TYPE_CHECKING:
    from .server import MockWeComServer

PREFIX = "/__admin__/"


def handle_admin(
    mock: MockWeComServer, method: str, path: str, query: Mapping[str, str], body: bytes
) -> Reply:
    route = path[len(PREFIX) :].strip("/")
    try:
        return _route(mock, method, route, query, body)
    except ScenarioError as exc:
        return json_reply({"error": str(exc)}, status=400)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return json_reply({"error": f"invalid JSON body: {exc}"}, status=400)


def _route(
    mock: MockWeComServer, method: str, route: str, query: Mapping[str, str], body: bytes
) -> Reply:
    endpoint = _ENDPOINTS.get((method, route))
    if endpoint is not None:
        return endpoint(mock, query, body)
    if method == "DELETE" and route.startswith("faults/") and route[7:].isdigit():
        removed = mock.remove_fault(int(route[7:]))
        return json_reply({"removed": removed}, status=200 if removed else 404)
    return json_reply({"error": f"no admin endpoint {method} {PREFIX}{route}"}, status=404)


_OK = {"status": "ok"}


def _health(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    return json_reply(_OK)


def _get_calls(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    return json_reply({"calls": [c.to_dict() for c in mock.calls(query.get("api"))]})


def _clear_calls(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    mock.clear_calls()
    return json_reply(_OK)


def _get_deliveries(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    return json_reply(mock.deliveries().to_dict())


def _get_faults(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    return json_reply(mock.describe_faults())


def _post_faults(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    return json_reply({"ids": _add_faults(mock, _json(body))})


def _clear_faults(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    mock.clear_faults()
    return json_reply(_OK)


def _post_rate_limit(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    mock.add_rate_limit(RateLimit.from_dict(_mapping(_json(body), "rate limit")))
    return json_reply(_OK)


def _expire_tokens(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    mock.expire_tokens()
    return json_reply(_OK)


def _reset(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    mock.reset()
    return json_reply(_OK)


def _post_scenario(mock: MockWeComServer, query: Mapping[str, str], body: bytes) -> Reply:
    mock.load_scenario(Scenario.from_dict(_mapping(_json(body), "scenario")))
    return json_reply(_OK)


_Endpoint = Callable[["MockWeComServer", Mapping[str, str], bytes], Reply]
_ENDPOINTS: dict[tuple[str, str], _Endpoint] = {
    ("GET", "health"): _health,
    ("GET", "calls"): _get_calls,
    ("DELETE", "calls"): _clear_calls,
    ("GET", "deliveries"): _get_deliveries,
    ("GET", "faults"): _get_faults,
    ("POST", "faults"): _post_faults,
    ("DELETE", "faults"): _clear_faults,
    ("POST", "rate-limits"): _post_rate_limit,
    ("POST", "expire-tokens"): _expire_tokens,
    ("POST", "reset"): _reset,
    ("POST", "scenario"): _post_scenario,
}


def _add_faults(mock: MockWeComServer, data: Any) -> list[int]:
    """Body: one fault mapping, a list of them, or ``{"faults": [...], "rate_limits": [...]}``."""
    if isinstance(data, list):
        return [
            mock.inject(Fault.from_dict(_mapping(f, "fault"), f"[{i}]")) for i, f in enumerate(data)
        ]
    data = _mapping(data, "fault")
    if "faults" in data or "rate_limits" in data:
        extra = sorted(set(data) - {"faults", "rate_limits"})
        if extra:
            raise ScenarioError(
                f"unknown key(s) {', '.join(extra)} (POST /__admin__/scenario replaces a scenario)"
            )
        fragment = Scenario.from_dict(data)
        for limit in fragment.rate_limits:
            mock.add_rate_limit(limit)
        return [mock.inject(f) for f in fragment.faults]
    return [mock.inject(Fault.from_dict(data))]


def _json(body: bytes) -> Any:
    return json.loads(body.decode("utf-8") or "null")


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"expected a JSON object for the {what}, got {type(value).__name__}")
    return value
