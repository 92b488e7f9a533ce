"""Bounded JSON parsing for the few places that need a whole small body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Optional, Union

SMALL_BODY_LIMIT: Final = 64 * 1024
"""Bodies larger than this are not parsed (message/send request and response bodies are tiny)."""


def small_json_object(body: Union[bytes, str, None]) -> Optional[Mapping[str, Any]]:
    """``body`` parsed as a JSON object, or ``None`` if it is absent, too large or not an object."""
    if not body or len(body) > SMALL_BODY_LIMIT:
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        return None
    return value if isinstance(value, dict) else None
