"""scripts/generate_package_data.py: reproducible, validating, and in sync with the commit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import ROOT

SOURCE = [
    {"code": 42001, "zh": "access_token已过期", "zh_hint": "需要重新获取", "category": "auth/token",
     "category_source": "curated", "en": "access_token expired",
     "retry": "yes: once, after refreshing token", "remediation": "Refresh and retry once."},
    {"code": -1, "zh": "系统繁忙", "zh_hint": "", "category": "system/busy",
     "category_source": "curated", "en": "System busy", "retry": "yes: backoff",
     "remediation": "-"},
    {"code": 0, "zh": "请求成功", "zh_hint": "", "category": "ok", "category_source": "curated",
     "en": "Success", "retry": "n/a", "remediation": "-"},
    {"code": 640020, "zh": "非法的权限类型", "zh_hint": "", "category": "permission",
     "category_source": "heuristic", "en": "", "retry": "no", "remediation": ""},
    {"code": 42021, "zh": "device_access_token 过期", "zh_hint": "", "category": "auth/token",
     "category_source": "heuristic", "en": "", "retry": "maybe (token codes only)",
     "remediation": ""},
    {"code": 60008, "zh": "部门已存在", "zh_hint": "部门ID或者部门名称已存在",
     "category": "other", "category_source": "curated", "en": "Department already exists",
     "retry": "no", "remediation": "-"},
]  # fmt: skip

REVIEW = {
    "codes": {
        "640020": {"group": "other", "category": "invalid_param", "retryable": False,
                   "reason": "was permission: a bad permission type is a parameter error"},
        "42001": {"group": "token", "category": "auth", "retryable": True,
                  "reason": "refresh and retry once", "remediation": "Refresh the token."},
    }
}  # fmt: skip

MEANINGS = {"meanings": {"640020": "Invalid permission type"}}

PATHS = """\
/cgi-bin/message/send
/cgi-bin/gettoken
/cgi-bin/webhook/send/
https://qyapi.weixin.qq.com
/cgi-bin/Bad-Path
/cgi-bin/a//b
/other/prefix

/cgi-bin/media/get
"""
METHODS = "GET /cgi-bin/gettoken\nPOST /cgi-bin/appchat/send\nGET /cgi-bin/media/get/jssdk\n"


def _write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    return {
        "source": _write(tmp_path / "errcodes.json", SOURCE),
        "review": _write(tmp_path / "review.json", REVIEW),
        "meanings": _write(tmp_path / "meanings.json", MEANINGS),
        "paths": _write(tmp_path / "paths.txt", PATHS),
        "methods": _write(tmp_path / "methods.txt", METHODS),
    }


def _run(generator: ModuleType, inputs: dict[str, Path], out: Path, docs: str = "") -> int:
    code: int = generator.main(
        [
            str(inputs["source"]),
            "--paths", str(inputs["paths"]), str(inputs["methods"]),
            "--review", str(inputs["review"]),
            "--meanings", str(inputs["meanings"]),
            "--out-dir", str(out),
            "--docs", docs,
        ]
    )  # fmt: skip
    return code


def test_fixture_output(generator: ModuleType, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(generator, inputs, out) == 0
    records = {r["code"]: r for r in json.loads((out / "errcodes.json").read_text("utf-8"))}
    assert list(records) == [-1, 0, 42001, 42021, 60008, 640020]
    assert records[42001] == {
        "code": 42001,
        "title_zh": "access_token已过期",
        "hint_zh": "需要重新获取",
        "meaning": "access_token expired",
        "category": "auth",
        "retryable": True,
        "remediation": "Refresh the token.",
    }
    assert (records[-1]["category"], records[-1]["retryable"]) == ("system", True)
    assert records[-1]["remediation"] == generator.DEFAULT_REMEDIATION["system"]
    assert (records[0]["category"], records[0]["retryable"]) == ("ok", False)
    assert records[640020]["category"] == "invalid_param"
    assert records[640020]["meaning"] == "Invalid permission type"
    # "maybe" is not "yes": only the review makes a keyword-guessed token code retryable.
    assert (records[42021]["category"], records[42021]["retryable"]) == ("auth", False)
    assert records[42021]["meaning"].startswith(generator.UNTRANSLATED)
    assert (out / "api_paths.txt").read_text("utf-8").splitlines() == [
        "appchat/send",
        "gettoken",
        "media/get",
        "media/get/jssdk",
        "message/send",
        "webhook/send",
    ]


def test_reproducible(generator: ModuleType, inputs: dict[str, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert _run(generator, inputs, first) == 0
    assert _run(generator, inputs, second) == 0
    for name in ("errcodes.json", "api_paths.txt"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_compact_one_record_per_line(
    generator: ModuleType, inputs: dict[str, Path], tmp_path: Path
) -> None:
    assert _run(generator, inputs, tmp_path / "out") == 0
    lines = (tmp_path / "out" / "errcodes.json").read_text("utf-8").splitlines()
    assert lines[0] == "["
    assert lines[-1] == "]"
    assert len(lines) == len(SOURCE) + 2
    for line in lines[1:-1]:
        compact = json.dumps(
            json.loads(line.rstrip(",")), ensure_ascii=False, separators=(",", ":")
        )
        assert line.rstrip(",") == compact


@pytest.mark.parametrize(
    ("code", "entry", "message"),
    [
        ("640020", {"category": "invalid_param", "reason": "silently changed"}, "must say so"),
        ("60008", {"category": "other", "reason": "was other: nothing changed"}, "must say so"),
        ("60008", {"category": "conflict"}, "bad category"),
        ("60008", {"retryable": "no"}, "must be a bool"),
        ("60008", {"group": "misc"}, "bad group"),
        ("60008", {"extra": 1}, "unknown keys"),
        ("99999", {}, "absent from the source"),
    ],
)
def test_review_is_validated(
    generator: ModuleType,
    inputs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    code: str,
    entry: dict[str, Any],
    message: str,
) -> None:
    base = {"group": "contacts", "category": "other", "retryable": False, "reason": "conflict"}
    _write(inputs["review"], {"codes": {code: {**base, **entry}}})
    assert _run(generator, inputs, tmp_path / "out") == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "errcodes.json").exists()


def test_docs_block_is_replaced(
    generator: ModuleType, inputs: dict[str, Path], tmp_path: Path
) -> None:
    docs = tmp_path / "doc.md"
    docs.write_text(f"intro\n{generator.DOCS_BEGIN}\nold\n{generator.DOCS_END}\nend\n", "utf-8")
    assert _run(generator, inputs, tmp_path / "out", docs=str(docs)) == 0
    text = docs.read_text("utf-8")
    assert text.startswith("intro\n")
    assert text.endswith("end\n")
    assert "old" not in text
    assert "| 640020 | 非法的权限类型 | Invalid permission type | `invalid_param` | no |" in text
    assert "#### token" in text


def test_committed_data_matches_the_committed_review(
    generator: ModuleType, records: list[dict[str, Any]]
) -> None:
    """Without ../shared: every review entry and meaning is reflected in the shipped data."""
    by_code = {r["code"]: r for r in records}
    review = generator.load_review(ROOT / "scripts" / "errcode_review.json")
    meanings = generator.load_meanings(ROOT / "scripts" / "errcode_meanings.json")
    for code, entry in review.items():
        r = by_code[code]
        assert (r["category"], r["retryable"]) == (entry["category"], entry["retryable"]), code
        for key in ("meaning", "remediation"):
            if key in entry:
                assert r[key] == entry[key], code
    for code, meaning in meanings.items():
        if "meaning" not in review.get(code, {}):
            assert by_code[code]["meaning"] == meaning, code


def test_docs_counts_match_the_data(records: list[dict[str, Any]], generator: ModuleType) -> None:
    text = (ROOT / "docs" / "errcodes.md").read_text("utf-8")
    for category in generator.CATEGORIES:
        count = sum(1 for r in records if r["category"] == category)
        row = next(line for line in text.splitlines() if line.startswith(f"| `{category}` |"))
        assert row.rstrip(" |").endswith(f"| {count}"), category
    review = generator.load_review(ROOT / "scripts" / "errcode_review.json")
    changed = sum(1 for e in review.values() if e["reason"].startswith("was "))
    assert f"Hand review ({len(review)} codes)" in text
    assert f"**{changed} of them change the shared" in text


def test_docs_list_exactly_the_retryable_codes(records: list[dict[str, Any]]) -> None:
    text = (ROOT / "docs" / "errcodes.md").read_text("utf-8")
    section = text.split("## Retryability", 1)[1].split("\n## ", 1)[0]
    listed: set[int] = set()
    for line in section.splitlines():
        if line.startswith(("| `system`", "| `rate_limit`", "| `auth`")):
            first_cell = line.split("|")[1]
            listed |= {int(n) for n in re.findall(r"-?\d+", first_cell.split(":", 1)[1])}
    assert listed == {r["code"] for r in records if r["retryable"]}
