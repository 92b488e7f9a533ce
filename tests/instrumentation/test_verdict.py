"""The one function that decides wecom.status, error.type and the span status description."""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.wecom._verdict import (
    DESCRIPTION_MAX_LENGTH,
    ERRMSG_MAX_LENGTH,
    OK,
    Verdict,
    verdict,
)

ERRMSG_42001 = (
    "access_token expired, hint: [1700000000_1_abc], from ip: 1.2.3.4, more info at https://x"
)


def _mask(text: str) -> str:
    return text.replace("SECRET", "REDACTED")


@pytest.mark.parametrize(
    ("errcode", "status_code", "exception", "expected"),
    [
        (0, 200, None, OK),
        (None, 200, None, OK),
        (None, None, None, OK),
        (None, 399, None, OK),
        # A business errcode wins over the HTTP status and over the exception carrying it.
        (42001, 200, None, Verdict("business_error", "42001")),
        (45009, 503, None, Verdict("business_error", "45009")),
        (-1, None, RuntimeError("x"), Verdict("business_error", "-1")),
        (None, None, TimeoutError("slow"), Verdict("system_error", "TimeoutError")),
        (0, None, ConnectionError("reset"), Verdict("system_error", "ConnectionError")),
        (None, 502, None, Verdict("system_error", "502")),
        (None, 400, None, Verdict("system_error", "400")),
        (None, 500, ValueError("bad"), Verdict("system_error", "ValueError")),
    ],
)
def test_status_and_error_type(
    errcode: int | None,
    status_code: int | None,
    exception: BaseException | None,
    expected: Verdict,
) -> None:
    assert verdict(errcode, "msg", status_code=status_code, exception=exception) == expected


def test_without_describe_nothing_is_scrubbed_or_described() -> None:
    def scrub(text: str) -> str:
        raise AssertionError("scrubbed although nothing is described")

    judged = verdict(42001, ERRMSG_42001, exception=ValueError("SECRET"), scrub=scrub)
    assert judged == Verdict("business_error", "42001", None, None)


def test_business_error_description_is_the_errmsg_before_its_hint() -> None:
    judged = verdict(42001, ERRMSG_42001, status_code=200, describe=True)
    assert judged.errmsg == ERRMSG_42001
    assert judged.description == "WeCom errcode 42001: access_token expired"


def test_business_error_without_errmsg() -> None:
    judged = verdict(60020, None, describe=True)
    assert judged == Verdict("business_error", "60020", None, "WeCom errcode 60020")


def test_errmsg_and_description_are_scrubbed_then_cut() -> None:
    errmsg = "bad key=SECRET " + "x" * 400
    judged = verdict(40001, errmsg, describe=True, scrub=_mask)
    assert judged.errmsg is not None
    assert "SECRET" not in judged.errmsg
    assert judged.errmsg.startswith("bad key=REDACTED ")
    assert len(judged.errmsg) == ERRMSG_MAX_LENGTH
    assert judged.description is not None
    assert judged.description.startswith("WeCom errcode 40001: bad key=REDACTED ")
    assert len(judged.description) == DESCRIPTION_MAX_LENGTH


def test_exception_description_is_its_class_and_scrubbed_message() -> None:
    judged = verdict(
        None, exception=OSError("GET /x?access_token=SECRET"), describe=True, scrub=_mask
    )
    assert judged == Verdict(
        "system_error", "OSError", None, "OSError: GET /x?access_token=REDACTED"
    )


def test_exception_type_is_the_qualified_class_name() -> None:
    class Outer:
        class Failure(Exception):
            pass

    judged = verdict(None, exception=Outer.Failure("boom"), describe=True)
    assert judged.error_type.endswith("Outer.Failure")  # type: ignore[union-attr]


def test_http_status_description() -> None:
    assert verdict(None, status_code=503, describe=True) == Verdict(
        "system_error", "503", None, "HTTP 503"
    )


def test_ok_is_never_described() -> None:
    assert verdict(0, "ok", status_code=200, describe=True) is OK
