"""Finding ``errcode`` and ``errmsg`` in a response body at a bounded cost.

The body has already been read by the HTTP client; parsing all of it again
would double the cost of a 10 MB ``user/list``. WeCom writes ``errcode`` and
``errmsg`` at the top level, normally first and otherwise last (after the
default empty fields of an error body), so only a window at each end of the
body is searched: the cost is the same for 100 bytes and for 10 MB.
"""

from __future__ import annotations

import json
import re
from typing import Final, NamedTuple, Optional

WINDOW: Final = 4096
"""Bytes searched at each end of a body."""

_SNIFF_BYTES: Final = 64

_ERRCODE_KEY: Final = b'"errcode"'
_ERRMSG_KEY: Final = b'"errmsg"'
_WHITESPACE: Final = b" \t\r\n"
_BOM: Final = b"\xef\xbb\xbf"
"""A UTF-8 byte-order mark: JSON parsers (``json.loads`` of bytes) skip it, so does the scan."""
_DIGITS: Final = b"0123456789"
_MAX_DIGITS: Final = 64
"""An integer member longer than this is not a number WeCom sent: no value rather than a cut one."""
_NUMBER_ENDS: Final = b" \t\r\n,}]"
_INTEGER: Final = re.compile(rf"-?[0-9]{{1,{_MAX_DIGITS}}}")
_MAX_ERRMSG_BYTES: Final = 1024
_DECODER: Final = json.JSONDecoder()


class BodyOutcome(NamedTuple):
    errcode: Optional[int]
    errmsg: Optional[str]


NO_OUTCOME: Final = BodyOutcome(None, None)


def media_type(content_type: Optional[str]) -> str:
    """The media type of a ``Content-Type`` header, lower case, without parameters."""
    return content_type.split(";", 1)[0].strip().lower() if content_type else ""


def is_textual(media_type: str) -> bool:
    """Whether a media type is JSON or text, the only bodies that may carry an errcode."""
    return "json" in media_type or media_type.startswith("text/")


def looks_like_json(content_type: Optional[str], head: bytes) -> bool:
    """Whether a body may carry an errcode: JSON or text whose first byte opens an object.

    Binary downloads (``media/get`` success) fail the first check and are never parsed.
    """
    if content_type and not is_textual(media_type(content_type)):
        return False
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    return head.lstrip(_WHITESPACE)[:1] == b"{"


def outcome_of_body(content_type: Optional[str], body: bytes) -> BodyOutcome:
    """The errcode of a complete body the app has read, if it is a JSON body."""
    if not looks_like_json(content_type, body[:_SNIFF_BYTES]):
        return NO_OUTCOME
    return outcome_of(body)


def outcome_of(body: bytes) -> BodyOutcome:
    """The errcode and errmsg of a complete body."""
    if len(body) <= WINDOW:
        return outcome_of_windows(body, b"")
    return outcome_of_windows(body[:WINDOW], body[-WINDOW:])


def outcome_of_windows(head: bytes, tail: bytes) -> BodyOutcome:
    """The errcode (and, for a failure, the errmsg) in the first and last bytes of a body.

    ``tail`` is empty when ``head`` is the whole body. The first ``errcode`` of
    the head wins; failing that, the last one of the tail. The errmsg of a
    success (``"ok"``) is not read: it says nothing.
    """
    for window, position in ((head, head.find(_ERRCODE_KEY)), (tail, tail.rfind(_ERRCODE_KEY))):
        if position >= 0:
            errcode = _int_at(window, position + len(_ERRCODE_KEY))
            if errcode is not None:
                return BodyOutcome(errcode, _errmsg_in(window) if errcode != 0 else None)
    return NO_OUTCOME


def int_member(window: bytes, key: bytes) -> Optional[int]:
    """The integer value of the first ``"key": 123`` (or ``"key": "123"``) in ``window``."""
    position = window.find(key)
    return None if position < 0 else _int_at(window, position + len(key))


def str_member(window: bytes, key: bytes, max_length: int) -> Optional[str]:
    """The value of the first ``"key": "text"`` in ``window``, if short and unescaped."""
    position = window.find(key)
    return None if position < 0 else string_at(window, position + len(key), max_length)


def string_at(window: bytes, index: int, max_length: Optional[int] = None) -> Optional[str]:
    """The string in ``: "text"`` at ``index`` (just after a key), if it is plain.

    ``None`` when no colon and string follow, when the string holds an escape (the
    caller may parse the JSON instead), or when it does not close within
    ``max_length`` bytes (``None``: within ``window``).
    """
    found = _skip_colon(window, index)
    if found is None or found >= len(window) or window[found] != 0x22:  # '"'
        return None
    start = found + 1
    end = (
        window.find(b'"', start)
        if max_length is None
        else window.find(b'"', start, start + 1 + max_length)
    )
    if end < 0:
        return None
    value = window[start:end]
    return None if b"\\" in value else value.decode("utf-8", "replace")


def _skip_colon(window: bytes, index: int) -> Optional[int]:
    """The index after ``<spaces>:<spaces>`` at ``index``, or None if there is no colon."""
    end = len(window)
    while index < end and window[index] in _WHITESPACE:
        index += 1
    if index >= end or window[index] != 0x3A:  # ':'
        return None
    index += 1
    while index < end and window[index] in _WHITESPACE:
        index += 1
    return index


def _int_at(window: bytes, index: int) -> Optional[int]:
    """Parse ``: 42001`` or ``: "42001"`` starting at ``index``.

    The whole integer or nothing: a number with a fraction or an exponent
    (``1.5``, ``1e30``) is not an integer, one followed by anything but what may
    follow a JSON value is not a number, and one that runs to the end of the
    window may have been cut by it.
    """
    found = _skip_colon(window, index)
    if found is None:
        return None
    index = found
    end = len(window)
    quoted = index < end and window[index] == 0x22  # '"': some gateways quote the number
    if quoted:
        index += 1
    start = index
    if index < end and window[index] == 0x2D:  # '-'
        index += 1
    digits_start = index
    while index < end and window[index] in _DIGITS and index - digits_start <= _MAX_DIGITS:
        index += 1
    digits = index - digits_start
    if digits == 0 or digits > _MAX_DIGITS or index >= end:
        return None
    if window[index] not in (b'"' if quoted else _NUMBER_ENDS):
        return None  # 1.5, 1e30, 12ab, "12 ...
    return int(window[start:index])


def _errmsg_in(window: bytes) -> Optional[str]:
    position = window.find(_ERRMSG_KEY)
    if position < 0:
        return None
    colon = window.find(b":", position + len(_ERRMSG_KEY))
    if colon < 0:
        return None
    text = window[colon + 1 : colon + 1 + _MAX_ERRMSG_BYTES].decode("utf-8", "replace").lstrip()
    try:
        value, _ = _DECODER.raw_decode(text)
    except ValueError:
        return None  # cut mid-string by the window, or not a string
    return value if isinstance(value, str) else None


def outcome_of_fields(errcode: object, errmsg: object) -> BodyOutcome:
    """The outcome carried by ``errcode``/``errmsg`` values of a parsed body or an SDK object.

    The same rule as the byte scan: an integer, or a string holding one; a float,
    a boolean or anything else is no errcode.
    """
    if isinstance(errcode, bool):
        return NO_OUTCOME
    if isinstance(errcode, int):
        code = errcode
    elif isinstance(errcode, str) and _INTEGER.fullmatch(errcode):
        code = int(errcode)
    else:
        return NO_OUTCOME
    return BodyOutcome(code, errmsg if isinstance(errmsg, str) else None)
