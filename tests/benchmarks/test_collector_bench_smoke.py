"""The collector throughput harness at smoke size: one low step per configuration.

No throughput or CPU figure is asserted (a few seconds on a shared machine measure nothing, and
at this rate both configurations can round to the same CPU ticks); the checks are that
telemetrygen builds and runs and that each configuration accepts what it is offered without
refusing anything. That the bundled scrub works is proven on the real collector elsewhere
(tests/collector/test_scrub_pattern.py, the e2e canary).
"""

from __future__ import annotations

import pytest

from benchmarks.collector.harness import CONFIGS, Collector, Step, measure_step, telemetrygen
from opentelemetry.instrumentation.wecom.stack.build import BuildError
from tests._support import missing
from tests.collector.binaries import require_binaries

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Step]:
    binaries = require_binaries()
    try:
        generator = telemetrygen()
    except (BuildError, OSError) as error:
        missing(f"telemetrygen could not be built with go install: {error}")
    measured = {}
    for config in CONFIGS:
        work = tmp_path_factory.mktemp(config)
        with Collector(binaries.collector, config, work).running() as collector:
            measured[config] = measure_step(collector, generator, rate=400, seconds=3)
    return measured


@pytest.mark.parametrize("config", CONFIGS)
def test_each_configuration_accepts_a_low_rate_without_refusing(
    steps: dict[str, Step], config: str
) -> None:
    step = steps[config]
    assert step.offered > 0
    assert step.refused == 0
    assert step.export_failed == 0
    assert step.accepted >= 0.98 * step.offered
    assert step.rss_mib > 0
