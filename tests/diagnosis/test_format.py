"""The words the findings and reports share (diagnosis/_format.py)."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.wecom.diagnosis._format import counted, percent


@pytest.mark.parametrize(
    ("value", "noun", "plural", "expected"),
    [
        (1, "call", None, "1 call"),
        (0, "call", None, "0 calls"),
        (4, "call", None, "4 calls"),
        (1234.0, "call", None, "1,234 calls"),
        (1, "process", "processes", "1 process"),
        (2, "process", "processes", "2 processes"),
        (3, "delivery", "deliveries", "3 deliveries"),
    ],
)
def test_a_count_agrees_with_its_noun(
    value: float, noun: str, plural: str | None, expected: str
) -> None:
    assert counted(value, noun, plural) == expected


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 10, "0 %"), (3, 0, "0 %"), (24, 1000, "2.4 %"), (36, 100, "36 %")],
)
def test_a_share_has_one_decimal_under_ten_percent(part: int, whole: int, expected: str) -> None:
    assert percent(part, whole) == expected
