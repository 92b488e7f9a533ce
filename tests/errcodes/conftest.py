"""Shared paths and helpers for the errcode knowledge-base tests."""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_package_data.py"


def package_data(name: str) -> str:
    return (
        resources.files("opentelemetry.instrumentation.wecom")
        .joinpath("_data")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


@pytest.fixture(scope="session")
def records() -> list[dict[str, Any]]:
    """The shipped errcode records, as the package data holds them."""
    data: list[dict[str, Any]] = json.loads(package_data("errcodes.json"))
    return data


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    """scripts/generate_package_data.py imported as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("generate_package_data", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
