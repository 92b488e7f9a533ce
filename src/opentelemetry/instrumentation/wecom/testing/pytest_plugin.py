"""pytest plugin (entry point ``pytest11``): the ``wecom_mock`` fixture.

Registered as ``wecom_mock``; it imports nothing heavy at load time so it can never break a
test run, even without the ``testing`` extra. Configure a test's server with the marker::

    @pytest.mark.wecom_mock(scenario="examples/scenarios/incident.yaml", seed=7)
    def test_x(wecom_mock): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .server import MockWeComServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wecom_mock(scenario=None, **kwargs): MockWeComServer arguments for the wecom_mock fixture",
    )


@pytest.fixture
def wecom_mock(request: pytest.FixtureRequest) -> Iterator[MockWeComServer]:
    """A fresh, started :class:`MockWeComServer` on an ephemeral loopback port."""
    from .server import MockWeComServer  # noqa: PLC0415 - keep plugin import cheap

    marker = request.node.get_closest_marker("wecom_mock")
    args = marker.args if marker else ()
    kwargs = dict(marker.kwargs) if marker else {}
    with MockWeComServer(*args, **kwargs) as server:
        yield server
