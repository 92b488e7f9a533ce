"""pytest plugin: the ``wecom_mock`` fixture, opt-in.

Installing the package changes no one's test sessions: a project that wants the
fixture opts in, in its top-level ``conftest.py``::

    pytest_plugins = ["opentelemetry.instrumentation.wecom.testing.pytest_plugin"]

or on the command line / in ``addopts``:
``pytest -p opentelemetry.instrumentation.wecom.testing.pytest_plugin``.
Loading it imports only pytest: the mock server is imported when a test first
asks for ``wecom_mock``, so it never breaks a run, even without the ``testing``
extra. Configure a test's server with the marker::

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
