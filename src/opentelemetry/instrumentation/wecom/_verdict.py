"""What a finished call's outcome means: ``wecom.status``, ``error.type`` and the span status.

One pure function, so every rule docs/telemetry.md states about status and
error type lives in one place and is tested on its own:

- an errcode other than 0 is a business error, whatever the HTTP status, and
  ``error.type`` is the errcode (an SDK exception carrying it counts too);
- otherwise an exception is a system error typed by its class;
- otherwise an HTTP status >= 400 is a system error typed by the status;
- otherwise the call is ok.
"""

from __future__ import annotations

from typing import Callable, Final, NamedTuple, Optional

from opentelemetry.instrumentation.wecom import _attributes as attr

ERRMSG_MAX_LENGTH: Final = 256
DESCRIPTION_MAX_LENGTH: Final = 160
_HINT_SEPARATOR: Final = ", hint:"


class Verdict(NamedTuple):
    """The status of a call and, for a failure that is described, what to say about it."""

    status: str
    """``wecom.status``: ``ok``, ``business_error`` or ``system_error``."""
    error_type: Optional[str]
    """``error.type``: the errcode, the exception's class or the HTTP status; ``None`` if ok."""
    errmsg: Optional[str] = None
    """``wecom.errmsg`` of a described business error, scrubbed and cut."""
    description: Optional[str] = None
    """The span status description of a described failure, scrubbed and cut."""


OK: Final = Verdict(attr.STATUS_OK, None)


def _unchanged(text: str) -> str:
    return text


def verdict(
    errcode: Optional[int],
    errmsg: Optional[str] = None,
    *,
    status_code: Optional[int] = None,
    exception: Optional[BaseException] = None,
    describe: bool = False,
    scrub: Callable[[str], str] = _unchanged,
) -> Verdict:
    """Decide the status of a call from what it ended with.

    ``describe`` asks for ``errmsg`` and ``description`` too (only a recording span
    needs them); ``scrub`` removes secrets from the errmsg and the exception text
    before they are cut to length.
    """
    if errcode is not None and errcode != 0:
        status, error_type = attr.STATUS_BUSINESS_ERROR, str(errcode)
    elif exception is not None:
        status, error_type = attr.STATUS_SYSTEM_ERROR, type(exception).__qualname__
    elif status_code is not None and status_code >= 400:
        status, error_type = attr.STATUS_SYSTEM_ERROR, str(status_code)
    else:
        return OK
    if not describe:
        return Verdict(status, error_type)
    if status == attr.STATUS_BUSINESS_ERROR:
        clean = scrub(errmsg) if errmsg else ""
        reason = clean.split(_HINT_SEPARATOR, 1)[0]
        description = f"WeCom errcode {errcode}" + (f": {reason}" if reason else "")
        return Verdict(
            status,
            error_type,
            clean[:ERRMSG_MAX_LENGTH] or None,
            description[:DESCRIPTION_MAX_LENGTH],
        )
    if exception is not None:
        description = f"{error_type}: {scrub(str(exception))}"
    else:
        description = f"HTTP {status_code}"
    return Verdict(status, error_type, None, description[:DESCRIPTION_MAX_LENGTH])
