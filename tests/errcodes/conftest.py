"""Shared paths and helpers for the errcode knowledge-base tests."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests._support import script

ROOT = Path(__file__).resolve().parents[2]


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
    """scripts/generate_package_data.py imported as a module."""
    return script("generate_package_data")
