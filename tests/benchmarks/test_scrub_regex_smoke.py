"""The scrub-pattern microbenchmark at smoke size: it builds, runs Go's regexp on the bundled
pattern and reports every value. No time is asserted; what Go's regexp makes of the
benchmark's URL is (the same engine the collector's OTTL runs)."""

from __future__ import annotations

import pytest

from benchmarks.collector import scrub_regex
from opentelemetry.instrumentation.wecom.stack.build import BuildError, find_go
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from tests._support import missing


def test_the_bundled_pattern_is_timed_on_every_value_beside_another_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        find_go()
    except BuildError as error:
        missing(str(error))
    older = str(bundle_dir() / "gateway" / "agent.yaml")  # carries the same generated block
    assert scrub_regex.main(["--iterations", "10", "--config", f"agent={older}"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "value | bundled ns | agent ns | agent/bundled"
    for label in scrub_regex.VALUES:
        assert any(line.startswith(f"{label} | ") for line in printed.splitlines()), label
    assert "message/send?access_token=REDACTED&debug=1" in printed
    assert "Zm9vYmFyYmF6cXV4" not in printed
