"""explain() and classify(): the public Python API."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import pytest

from opentelemetry.instrumentation.wecom import errcodes
from opentelemetry.instrumentation.wecom.errcodes import (
    CATEGORIES,
    OK_CATEGORY,
    ErrcodeInfo,
    classify,
    explain,
)

QUERY = "https://open.work.weixin.qq.com/devtool/query"


def test_explain_known_code() -> None:
    info = explain(60020)
    assert info.code == 60020
    assert info.known
    assert info.title_zh == "不安全的访问IP"
    assert "IP" in info.meaning
    assert info.hint_zh
    assert (info.category, info.retryable) == ("ip_whitelist", False)
    assert info.query_url == f"{QUERY}?e=60020"
    assert info.remediation


def test_explain_success_code() -> None:
    info = explain(0)
    assert info.known
    assert (info.category, info.retryable) == (OK_CATEGORY, False)
    assert classify(0) == (OK_CATEGORY, False)


@pytest.mark.parametrize("raw", ["60020", " 60020 ", "+60020", b"60020", 60020.0])
def test_explain_accepts_code_spellings(raw: Any) -> None:
    assert explain(raw) == explain(60020)


def test_explain_negative_code_as_string() -> None:
    assert explain("-1") == explain(-1)
    assert explain(-1).category == "system"


@pytest.mark.parametrize("code", [123456789, 45047, -40001, 2**70])
def test_explain_unknown_code(code: int) -> None:
    info = explain(code)
    assert not info.known
    assert info.code == code
    assert (info.category, info.retryable) == ("other", False)
    assert info.query_url == f"{QUERY}?e={code}"
    assert info.query_url in info.remediation
    assert info.meaning


@pytest.mark.parametrize(
    "raw", ["abc", "", "   ", "1.5", "0x10", "４２００１", None, 1.5, True, [1]]
)
def test_explain_garbage_never_raises(raw: Any) -> None:
    info = explain(raw)
    assert not info.known
    assert info.code == 0
    assert (info.category, info.retryable) == ("other", False)
    assert QUERY in info.remediation
    assert info.query_url == QUERY


def test_errcode_info_is_frozen_and_serialisable() -> None:
    info = explain(42001)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.code = 1  # type: ignore[misc]
    data = info.to_dict()
    assert set(data) == {f.name for f in dataclasses.fields(ErrcodeInfo)}
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert ErrcodeInfo(**data) == info


def test_classify_matches_explain_for_every_code(records: list[dict[str, Any]]) -> None:
    for r in records:
        info = explain(r["code"])
        expected = (r["category"], r["retryable"])
        assert (info.category, info.retryable) == expected
        assert classify(r["code"]) == expected


def test_classify_unknown_and_odd_input() -> None:
    assert classify(987654321) == ("other", False)
    assert classify([1]) == ("other", False)  # type: ignore[arg-type]


def test_classify_returns_shared_tuples() -> None:
    # The hot path hands out pre-built tuples: no allocation per call.
    assert classify(42001) is classify(42001)
    assert classify(40014) is classify(42001)
    assert classify(1) is classify(2)
    assert all(isinstance(classify(c)[1], bool) for c in (0, -1, 1))
    assert {classify(c)[0] for c in (-1, 40001, 60020)} <= set(CATEGORIES)


def test_table_loads_once_under_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    table = errcodes._Table()
    monkeypatch.setattr(errcodes, "_TABLE", table)
    loads = 0
    original = json.loads

    def counting_loads(*args: Any, **kwargs: Any) -> Any:
        nonlocal loads
        loads += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    barrier = threading.Barrier(8)
    results: list[tuple[str, bool]] = []

    def worker() -> None:
        barrier.wait()
        results.append(classify(45009))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [("rate_limit", True)] * 8
    assert loads == 1
    assert explain(45009).known
    assert loads == 1
