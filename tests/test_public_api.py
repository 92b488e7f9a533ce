"""The public names of each module are exactly the ones docs/api.md documents."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

API_DOC = (Path(__file__).parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
PUBLIC_MODULES = [
    "opentelemetry.instrumentation.wecom",
    "opentelemetry.instrumentation.wecom.errcodes",
    "opentelemetry.instrumentation.wecom.testing",
    "opentelemetry.instrumentation.wecom.callbacks",
    "opentelemetry.instrumentation.wecom.crypto",
    "opentelemetry.instrumentation.wecom.diagnosis",
]


def _documented_names(module: str) -> set[str]:
    """The names in the first column of the table in ``module``'s section of docs/api.md."""
    section = API_DOC.split(f"## `{module}`\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if len(cells) > 2 and not line.startswith("|---"):
            names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[1]))
    return names


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_all_is_exactly_what_the_api_page_documents(module: str) -> None:
    exported = set(importlib.import_module(module).__all__)
    documented = _documented_names(module)
    assert exported == documented, {
        "exported, not documented": exported - documented,
        "documented, not exported": documented - exported,
    }


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_exported_name_exists(module: str) -> None:
    imported = importlib.import_module(module)
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.{name}"


@pytest.mark.parametrize(
    "module", ["opentelemetry.instrumentation.wecom", "opentelemetry.instrumentation.wecom.testing"]
)
def test_the_lazy_names_are_the_exported_names(module: str) -> None:
    imported = importlib.import_module(module)
    assert set(imported._LAZY) | {"__version__"} >= set(imported.__all__)
    assert set(imported._LAZY) <= set(imported.__all__)
    assert set(dir(imported)) >= set(imported.__all__)
