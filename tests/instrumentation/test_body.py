"""The bounded errcode scan: what it finds, and that it never reads past its windows."""

from __future__ import annotations

import json

import pytest

from opentelemetry.instrumentation.wecom._body import (
    WINDOW,
    BodyOutcome,
    looks_like_json,
    outcome_of,
    outcome_of_windows,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"errcode":0,"errmsg":"ok"}', BodyOutcome(0, None)),
        (
            b'{"errcode": 42001, "errmsg": "access_token expired"}',
            BodyOutcome(42001, "access_token expired"),
        ),
        (b'{ "errcode" : -1 , "errmsg" : "system busy"}', BodyOutcome(-1, "system busy")),
        (b'{"errcode":"60020","errmsg":"not allow"}', BodyOutcome(60020, "not allow")),
        (
            b'{"ip_list":[],"errcode":40014,"errmsg":"invalid access_token"}',
            BodyOutcome(40014, "invalid access_token"),
        ),
        (b'{"access_token":"abc","expires_in":7200}', BodyOutcome(None, None)),
        (b'{"errcode":null}', BodyOutcome(None, None)),
        (b'{"errmsg":"\\u4e2d\\u6587","errcode":1}', BodyOutcome(1, "中文")),
    ],
)
def test_outcome_of_small_bodies(body: bytes, expected: BodyOutcome) -> None:
    assert outcome_of(body) == expected


def test_errcode_after_a_large_array_is_found_in_the_tail() -> None:
    big = json.dumps({"userlist": [{"userid": f"u{i}"} for i in range(50_000)], "errcode": 45029})
    body = big.encode()
    assert len(body) > 10 * WINDOW
    assert outcome_of(body).errcode == 45029


def test_top_level_errcode_first_wins_over_nested_ones() -> None:
    body = json.dumps(
        {"errcode": 0, "errmsg": "ok", "result": [{"errcode": 60111} for _ in range(3000)]}
    ).encode()
    assert outcome_of(body) == BodyOutcome(0, None)


def test_an_errcode_in_the_middle_of_a_huge_body_is_not_searched() -> None:
    """The cost bound: bytes between the two windows are never looked at."""
    filler = b" " * (3 * WINDOW)
    body = b'{"a":"' + filler + b'","errcode":5,"b":"' + filler + b'"}'
    assert outcome_of(body).errcode is None


def test_windows_of_a_streamed_body() -> None:
    assert outcome_of_windows(b'{"errcode":93000,"errmsg":"invalid webhook url"}', b"") == (
        BodyOutcome(93000, "invalid webhook url")
    )
    assert outcome_of_windows(b'{"data":[1,2', b'3],"errcode":7}').errcode == 7


def test_the_errmsg_of_a_success_is_not_read() -> None:
    assert outcome_of(b'{"errcode":0,"errmsg":"ok","data":1}').errmsg is None


@pytest.mark.parametrize(
    ("content_type", "head", "expected"),
    [
        ("application/json; charset=UTF-8", b'{"errcode":0}', True),
        ("text/plain", b'  {"errcode":0}', True),
        (None, b'{"errcode":0}', True),
        ("image/jpeg", b'{"errcode":0}', False),
        ("application/octet-stream", b"\x89PNG", False),
        ("text/html", b"<html>502 Bad Gateway</html>", False),
    ],
)
def test_looks_like_json(content_type: str | None, head: bytes, expected: bool) -> None:
    assert looks_like_json(content_type, head) is expected
