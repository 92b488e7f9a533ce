"""The fuzz rig, shared by the property test and the regression tests of its findings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._rig import Rig


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with Rig() as running:
        yield running
