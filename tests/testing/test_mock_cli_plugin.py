"""``wecom-otel mock`` as a subprocess, and the ``wecom_mock`` pytest fixture and marker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from opentelemetry.instrumentation.wecom.testing import MockWeComServer

CLI = [sys.executable, "-m", "opentelemetry.instrumentation.wecom.cli"]


def start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [*CLI, "mock", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.match(r"WeCom mock listening on (http://\S+)", line)
        if match:
            return process, match.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"mock did not start: {process.stderr.read() if process.stderr else ''}")


def test_cli_mock_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"faults": [{"api": "getcallbackip", "errcode": 60020}]}))
    process, base_url = start_cli("--scenario", str(scenario), "--seed", "1")
    try:
        assert httpx.get(base_url + "/__admin__/health", timeout=5).json() == {"status": "ok"}
        assert process.stdout is not None
        banner = "".join(process.stdout.readline() for _ in range(8))
        assert "corpsecret" in banner
        assert "webhook URL" in banner
        assert str(scenario) in banner
        corp_id = re.search(r"corpid\s+(\S+)", banner)
        secret = re.search(r"corpsecret\s+(\S+)", banner)
        assert corp_id
        assert secret
        token = httpx.get(
            base_url + "/cgi-bin/gettoken",
            params={"corpid": corp_id.group(1), "corpsecret": secret.group(1)},
            timeout=5,
        ).json()["access_token"]
        reply = httpx.get(
            base_url + "/cgi-bin/getcallbackip", params={"access_token": token}, timeout=5
        )
        assert reply.json()["errcode"] == 60020
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stopped" in out


def test_cli_mock_rejects_a_bad_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("faults:\n  - api: x\n    errcode: oops\n")
    result = subprocess.run(
        [*CLI, "mock", "--port", "0", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 2
    assert "bad.yaml: faults[0].errcode: expected an integer" in result.stderr


def test_fixture_gives_a_fresh_running_server(wecom_mock: MockWeComServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", wecom_mock.base_url)
    assert wecom_mock.api_base_url == wecom_mock.base_url + "/cgi-bin/"
    assert wecom_mock.host == f"127.0.0.1:{wecom_mock.port}"
    assert wecom_mock.calls() == []


@pytest.mark.wecom_mock(scenario={"faults": [{"api": "gettoken", "errcode": -1}]}, agent_id=42)
def test_marker_configures_the_fixture(wecom_mock: MockWeComServer) -> None:
    assert wecom_mock.agent_id == 42
    assert httpx.get(wecom_mock.api_base_url + "gettoken", timeout=5).json()["errcode"] == -1


PLUGIN = "opentelemetry.instrumentation.wecom.testing.pytest_plugin"

# A test of another project that writes down every module of this package its session loaded.
_PROBE = """
import json, sys


def test_probe():
    loaded = sorted(n for n in sys.modules if n.startswith("opentelemetry.instrumentation.wecom"))
    optional = sorted(n for n in ("cryptography", "yaml", "httpx", "requests", "wechatpy")
                      if n in sys.modules)
    with open("loaded.json", "w") as f:
        json.dump({"wecom": loaded, "optional": optional}, f)
"""


def _run_pytest_in(project: Path, *args: str) -> dict[str, list[str]]:
    """Run pytest as a subprocess in ``project`` (its own rootdir and config)."""
    (project / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    loaded: dict[str, list[str]] = json.loads((project / "loaded.json").read_text())
    return loaded


def test_a_plain_pytest_session_of_another_project_imports_nothing_of_this_package(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_other.py").write_text(_PROBE)
    loaded = _run_pytest_in(tmp_path)
    # Neither the instrumentor nor the mock server, nor anything else of the package.
    assert loaded["wecom"] == []


def test_opting_in_loads_only_the_plugin_until_a_test_uses_the_fixture(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(f"pytest_plugins = [{PLUGIN!r}]\n")
    (tmp_path / "test_other.py").write_text(_PROBE)
    loaded = _run_pytest_in(tmp_path)
    assert loaded["wecom"] == [
        "opentelemetry.instrumentation.wecom",
        "opentelemetry.instrumentation.wecom.testing",
        PLUGIN,
        "opentelemetry.instrumentation.wecom.version",
    ]
    assert loaded["optional"] == []


def test_opting_in_with_dash_p_gives_the_fixture_and_marker(tmp_path: Path) -> None:
    (tmp_path / "test_uses.py").write_text(
        "import json, sys, urllib.request\n"
        "import pytest\n\n"
        "@pytest.mark.wecom_mock(agent_id=7)\n"
        "def test_uses(wecom_mock):\n"
        "    assert wecom_mock.agent_id == 7\n"
        "    body = urllib.request.urlopen(wecom_mock.api_base_url + 'gettoken').read()\n"
        "    assert json.loads(body)['errcode'] == 41004\n"
        "    loaded = sorted(n for n in sys.modules if 'wecom' in n and '_instrumentor' in n)\n"
        "    json.dump({'wecom': loaded, 'optional': []}, open('loaded.json', 'w'))\n"
    )
    loaded = _run_pytest_in(tmp_path, "-p", PLUGIN, "--strict-markers")
    assert loaded["wecom"] == []  # the mock, used, still loads no instrumentation


def test_stopped_server_has_no_port() -> None:
    mock = MockWeComServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = mock.base_url
    mock.stop()  # stopping a server that never started is harmless
