"""The shipped errcode table and API path catalog."""

from __future__ import annotations

import re
from typing import Any

import pytest

from opentelemetry.instrumentation.wecom.errcodes import CATEGORIES, OK_CATEGORY, classify, explain

from .conftest import package_data

FIELDS = {"code", "title_zh", "hint_zh", "meaning", "category", "retryable", "remediation"}


def test_categories_are_the_contract_nine() -> None:
    assert CATEGORIES == (
        "auth",
        "permission",
        "ip_whitelist",
        "rate_limit",
        "invalid_param",
        "not_found",
        "system",
        "quota",
        "other",
    )
    assert OK_CATEGORY not in CATEGORIES


def test_all_official_codes_present_sorted_and_unique(records: list[dict[str, Any]]) -> None:
    codes = [r["code"] for r in records]
    assert len(codes) == 1251
    assert codes == sorted(set(codes))


def test_every_record_is_complete_and_valid(records: list[dict[str, Any]]) -> None:
    for r in records:
        assert set(r) == FIELDS, r["code"]
        assert isinstance(r["code"], int)
        assert isinstance(r["retryable"], bool)
        assert r["title_zh"].strip(), r["code"]
        assert r["meaning"].strip(), r["code"]
        assert not r["meaning"].startswith("(untranslated)"), r["code"]
        assert r["remediation"].strip(), r["code"]
        if r["code"] == 0:
            assert (r["category"], r["retryable"]) == (OK_CATEGORY, False)
        else:
            assert r["category"] in CATEGORIES, r["code"]


def test_no_html_entities_left(records: list[dict[str, Any]]) -> None:
    entity = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)
    assert [r["code"] for r in records for v in r.values() if entity.search(str(v))] == []


def test_meanings_are_english(records: list[dict[str, Any]]) -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert [r["code"] for r in records if cjk.search(r["meaning"])] == []


def test_every_category_is_used(records: list[dict[str, Any]]) -> None:
    assert {r["category"] for r in records} == {*CATEGORIES, OK_CATEGORY}


def test_only_system_rate_limit_and_refreshable_auth_are_retryable(
    records: list[dict[str, Any]],
) -> None:
    retryable = {r["code"]: r["category"] for r in records if r["retryable"]}
    assert set(retryable.values()) <= {"system", "rate_limit", "auth"}
    refreshable = {40014, 42001, 40082, 42009, 42021, 710401}
    assert {c for c, cat in retryable.items() if cat == "auth"} == refreshable
    # Every system and rate-limit code is retryable (after backoff).
    assert all(r["retryable"] for r in records if r["category"] in {"system", "rate_limit"})


# (code, category, retryable): values from the shared facts file's curated table and
# suggested classifier, plus this project's hand review (docs/errcodes.md).
REVIEWED = [
    # token
    (-1, "system", True),
    (40001, "auth", False),
    (40013, "auth", False),
    (40014, "auth", True),
    (40082, "auth", True),
    (40091, "auth", False),
    (41001, "auth", False),
    (41002, "auth", False),
    (41004, "auth", False),
    (42001, "auth", True),
    (42009, "auth", True),
    (45009, "rate_limit", True),
    (45031, "auth", False),
    (60020, "ip_whitelist", False),
    # message
    (40003, "invalid_param", False),
    (40008, "invalid_param", False),
    (40031, "invalid_param", False),
    (40032, "invalid_param", False),
    (40033, "invalid_param", False),
    (40035, "invalid_param", False),
    (40050, "not_found", False),
    (40056, "invalid_param", False),
    (40058, "invalid_param", False),
    (41011, "invalid_param", False),
    (44004, "invalid_param", False),
    (45002, "invalid_param", False),
    (45033, "rate_limit", True),
    (48002, "permission", False),
    (60011, "permission", False),
    (81013, "not_found", False),
    (82001, "invalid_param", False),
    (82002, "invalid_param", False),
    (82003, "invalid_param", False),
    (82004, "invalid_param", False),
    (86003, "not_found", False),
    (301002, "permission", False),
    # contacts
    (46004, "not_found", False),
    (60003, "not_found", False),
    (60004, "not_found", False),
    (60008, "other", False),
    (60102, "other", False),
    (60104, "other", False),
    (60111, "not_found", False),
    (60123, "not_found", False),
    (40066, "invalid_param", False),
    (40068, "invalid_param", False),
    (81011, "permission", False),
    # media
    (40004, "invalid_param", False),
    (40005, "invalid_param", False),
    (40006, "invalid_param", False),
    (40007, "not_found", False),
    (40009, "invalid_param", False),
    (40011, "invalid_param", False),
    (40123, "invalid_param", False),
    (44001, "invalid_param", False),
    (45001, "invalid_param", False),
    (830002, "invalid_param", False),
    # externalcontact
    (40096, "invalid_param", False),
    (84061, "not_found", False),
    (41063, "system", True),
    (40128, "quota", False),
    # webhook
    (93000, "auth", False),
    (93004, "permission", False),
    # others from the facts file's classifier
    (6000, "system", True),
    (81026, "system", True),
    (301042, "ip_whitelist", False),
    (90308, "ip_whitelist", False),
    (48009, "ip_whitelist", False),
    (2400007, "rate_limit", True),
    # keyword guesses the review corrected
    (640020, "invalid_param", False),
    (60124, "not_found", False),
    (81012, "invalid_param", False),
    (45007, "invalid_param", False),
]


@pytest.mark.parametrize(("code", "category", "retryable"), REVIEWED)
def test_reviewed_code(code: int, category: str, retryable: bool) -> None:
    info = explain(code)
    assert info.known
    assert (info.category, info.retryable) == (category, retryable)
    assert classify(code) == (category, retryable)


def test_api_paths_catalog() -> None:
    lines = package_data("api_paths.txt").splitlines()
    assert lines == sorted(set(lines))
    assert len(lines) > 300
    for path in lines:
        assert re.fullmatch(r"[a-z0-9_]+(/[a-z0-9_]+)*", path), path
    for expected in ("message/send", "gettoken", "webhook/send", "media/get", "appchat/send"):
        assert expected in lines
    assert not any(p.startswith("cgi-bin") for p in lines)
