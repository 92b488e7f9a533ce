"""Attribute values every OTLP exporter can encode.

Protobuf refuses a string holding a lone surrogate (an errmsg with the JSON
escape ``\\ud800`` decodes to one) and an integer outside int64 (a gateway's
``expires_in``, a 30-digit errcode); the OTLP encoder then drops the attribute
with an ERROR log or, for a status description, the whole batch. Every value
the package records passes through :func:`encodable_attributes` or
:func:`encodable_text` first, at the place it is set:

- a string with lone surrogates gets U+FFFD for each (valid pairs are joined);
- an integer outside int64 becomes its decimal string, so nothing is lost;
- a sequence is cleaned element by element (and made all strings if that
  changed one element's type, since OTLP arrays are homogeneous).

The common case costs a type check and ``str.isascii()`` per value.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Final

from opentelemetry.util.types import AttributeValue

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def encodable_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def encodable_value(value: AttributeValue) -> AttributeValue:
    """``value`` as OTLP can encode it (see the module docstring)."""
    if isinstance(value, str):
        return encodable_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if isinstance(value, Sequence):
        return _encodable_sequence(value)
    return value


def _encodable_sequence(values: Sequence[object]) -> AttributeValue:
    # The AttributeValue alias differs between opentelemetry-api releases: the ignores
    # below are needed with some, unused with others.
    cleaned = [encodable_value(v) for v in values]  # type: ignore[arg-type,unused-ignore]
    if any(type(new) is not type(old) for new, old in zip(cleaned, values)):
        return tuple(str(v) for v in cleaned)
    return tuple(cleaned)  # type: ignore[return-value,unused-ignore]


def encodable_attributes(
    attributes: MutableMapping[str, AttributeValue],
) -> MutableMapping[str, AttributeValue]:
    """Make every value of ``attributes`` encodable, in place; returns ``attributes``."""
    for key, value in attributes.items():
        if type(value) is str:
            if not value.isascii():
                attributes[key] = encodable_text(value)
        elif type(value) is int:
            if not _INT64_MIN <= value <= _INT64_MAX:
                attributes[key] = str(value)
        elif not isinstance(value, (bool, float)):
            attributes[key] = encodable_value(value)
    return attributes
