"""Every ``wecom-otel`` argument the command cannot use is one line on stderr and exit status 2.

Checked in-process through ``cli.main`` (the parser runs before anything starts:
no server, stack or demo is launched for a bad value).
"""

from __future__ import annotations

import pytest

from opentelemetry.instrumentation.wecom.cli import main

BAD_ARGUMENTS = [
    ["mock", "--port", "99999"],
    ["mock", "--port", "-1"],
    ["mock", "--port", "abc"],
    ["mock", "--seed", "x"],
    ["demo", "--calls", "0"],
    ["demo", "--calls", "x"],
    ["demo", "--duration", "nan"],
    ["demo", "--duration", "inf"],
    ["demo", "--duration", "1e400"],
    ["demo", "--duration", "0"],
    ["demo", "--seed", "1.5"],
    ["trace", "abcd", "--timeout", "-1"],
    ["trace", "abcd", "--timeout", "nan"],
    ["stack", "up", "--port", "x=y"],
    ["stack", "up", "--port", "jaeger_ui=99999"],
    ["stack", "up", "--port", "nosuch=1234"],
    ["stack", "up", "--probe-target", "notaurl"],
    ["stack", "up", "--probe-target", "http://example.com:99999"],
    ["stack", "nosuchaction"],
    ["diagnose", "--timeout", "nan"],
    ["diagnose", "--timeout", "-1"],
    ["diagnose", "--since", "99999999999999999d"],
    ["diagnose", "--lag", "inf"],
    ["explain"],
    ["nosuchcommand"],
    [],
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=lambda argv: " ".join(argv) or "(none)")
def test_a_bad_argument_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("wecom-otel"), lines[0]
    assert "Traceback" not in captured.err


def test_the_port_error_names_the_argument_and_the_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["mock", "--port", "99999"])
    assert capsys.readouterr().err == (
        "wecom-otel mock: error: argument --port: '99999' is not a port (0 to 65535); "
        "see `wecom-otel mock --help` for usage\n"
    )
