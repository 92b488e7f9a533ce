"""The public names of each module are exactly the ones docs/api.md documents."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

API_DOC = (Path(__file__).parents[1] / "docs" / "api.md").read_text(encoding="utf-8")


def _documented_names(module: str) -> set[str]:
    section = API_DOC.split(f"## `{module}`", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section))


@pytest.mark.parametrize(
    "module",
    [
        "opentelemetry.instrumentation.wecom",
        "opentelemetry.instrumentation.wecom.errcodes",
        "opentelemetry.instrumentation.wecom.testing",
        "opentelemetry.instrumentation.wecom.callbacks",
        "opentelemetry.instrumentation.wecom.crypto",
    ],
)
def test_every_public_name_is_documented(module: str) -> None:
    exported = set(importlib.import_module(module).__all__)
    assert exported <= _documented_names(module), exported - _documented_names(module)


def test_every_exported_name_exists() -> None:
    for module in (
        "opentelemetry.instrumentation.wecom",
        "opentelemetry.instrumentation.wecom.errcodes",
        "opentelemetry.instrumentation.wecom.testing",
        "opentelemetry.instrumentation.wecom.callbacks",
        "opentelemetry.instrumentation.wecom.crypto",
    ):
        imported = importlib.import_module(module)
        for name in imported.__all__:
            assert hasattr(imported, name), f"{module}.{name}"
