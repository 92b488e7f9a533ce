"""The local stack's own logic, with stand-in processes instead of the real binaries."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from opentelemetry.instrumentation.wecom.cli import main
from opentelemetry.instrumentation.wecom.stack import build
from opentelemetry.instrumentation.wecom.stack.build import Binaries, BuildError
from opentelemetry.instrumentation.wecom.stack.ports import (
    PortInUseError,
    StackPorts,
    _probe,
    free_ports,
    parse_overrides,
    require_free,
)
from opentelemetry.instrumentation.wecom.stack.processes import (
    LocalStack,
    StackError,
    recorded_pid,
    stack_status,
)
from opentelemetry.instrumentation.wecom.stack.render import collector_env, jaeger_env

FAKE = Path(__file__).with_name("fake_server.py")


@pytest.fixture
def fake_binaries(tmp_path: Path) -> Binaries:
    launcher = tmp_path / "fake-binary"
    source = FAKE.read_text(encoding="utf-8")
    launcher.write_text(f"#!{sys.executable}\n{source}", encoding="utf-8")
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    return Binaries(launcher, launcher, launcher, launcher)


def test_port_overrides() -> None:
    ports = StackPorts().with_overrides(parse_overrides(["jaeger_ui=26686", "prometheus = 19090"]))
    assert (ports.jaeger_ui, ports.prometheus, ports.otlp_grpc) == (26686, 19090, 4317)
    with pytest.raises(ValueError, match="unknown port"):
        StackPorts().with_overrides({"nope": 1})
    with pytest.raises(ValueError, match="NAME=PORT"):
        parse_overrides(["jaeger_ui"])


def test_default_ports_do_not_clash() -> None:
    values = list(StackPorts().as_dict().values())
    assert len(values) == len(set(values))


def test_busy_port_is_reported_by_name() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"prometheus={port}"):
            require_free({"prometheus": port})


def test_free_ports_are_distinct_bindable_and_below_the_outgoing_connection_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = StackPorts.ephemeral().as_dict().values()
    assert len(set(ports)) == len(StackPorts.names())
    assert all(port < low for port in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_free_ports_never_hands_out_a_port_twice_in_one_process() -> None:
    """Side-by-side stacks choose ports before binding them: no two may be given the same one.

    2,400 ports drawn from the ~22,000 below the outgoing range would repeat about 120 times
    if each draw were independent (stacks started side by side in CI once collided on one).
    """
    drawn = [port for _ in range(200) for port in free_ports(12)]
    assert len(set(drawn)) == len(drawn)


def test_ports_chosen_while_other_threads_start_processes_are_free_when_checked() -> None:
    """A child forked while ports are being checked inherits the checking sockets until it
    execs; the ports must not look taken meanwhile (it failed a CI run: a stack chose its
    ports while the diagnosis tests started their scenario processes).

    Before the checks bound with ``SO_REUSEADDR`` this found about one busy stack in 150.
    """
    spawning = threading.Event()
    spawning.set()

    def spawn() -> None:
        while spawning.is_set():
            subprocess.run([sys.executable, "-c", "pass"], check=True)

    spawners = [threading.Thread(target=spawn) for _ in range(4)]
    for spawner in spawners:
        spawner.start()
    busy = []
    try:
        for _ in range(3_000):
            ports = StackPorts.ephemeral().as_dict()
            try:
                require_free(ports)
            except PortInUseError as error:
                busy.append(str(error))
    finally:
        spawning.clear()
        for spawner in spawners:
            spawner.join()
    assert busy == []


def test_a_checking_socket_held_by_a_child_leaves_the_port_to_a_server() -> None:
    probe = _probe(0, "127.0.0.1")
    port = probe.getsockname()[1]
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    child = subprocess.Popen(sleeper, pass_fds=[probe.fileno()])
    try:
        probe.close()  # the child still holds its copy, as one forked mid-check does
        require_free({"prometheus": port})
        with socket.socket() as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", port))
            server.listen()
            with pytest.raises(PortInUseError, match=f"prometheus={port}"):
                require_free({"prometheus": port})
    finally:
        child.kill()
        child.wait()


def test_environment_moves_every_listener(tmp_path: Path) -> None:
    ports = StackPorts.ephemeral()
    env = collector_env(
        ports, tmp_path, {"WECOM_OTEL_DECISION_WAIT": "1s"}, call_log=tmp_path / "calls.jsonl"
    )
    assert env["WECOM_OTEL_OTLP_GRPC_ENDPOINT"] == f"127.0.0.1:{ports.otlp_grpc}"
    assert env["WECOM_OTEL_JAEGER_OTLP_ENDPOINT"] == f"127.0.0.1:{ports.jaeger_otlp_grpc}"
    assert env["WECOM_OTEL_DECISION_WAIT"] == "1s"
    jaeger = jaeger_env(ports, tmp_path / "badger")
    assert jaeger["JAEGER_PROMETHEUS_URL"] == f"http://127.0.0.1:{ports.prometheus}"
    assert jaeger["JAEGER_BADGER_DIR"] == str(tmp_path / "badger")


def test_a_fixed_memory_limit_gives_the_go_runtime_a_soft_limit_at_80_percent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    ports = StackPorts.ephemeral()
    log = tmp_path / "calls.jsonl"
    fixed = collector_env(ports, tmp_path, {"WECOM_OTEL_MEMORY_LIMIT_MIB": "120"}, call_log=log)
    assert fixed["GOMEMLIMIT"] == "96MiB"
    # A share of the machine's memory (the default) leaves the runtime alone.
    assert "GOMEMLIMIT" not in collector_env(ports, tmp_path, call_log=log)
    # The user's own GOMEMLIMIT, in the overrides or the environment, wins.
    own = {"WECOM_OTEL_MEMORY_LIMIT_MIB": "120", "GOMEMLIMIT": "200MiB"}
    assert collector_env(ports, tmp_path, own, call_log=log)["GOMEMLIMIT"] == "200MiB"
    monkeypatch.setenv("GOMEMLIMIT", "300MiB")
    inherited = collector_env(ports, tmp_path, {"WECOM_OTEL_MEMORY_LIMIT_MIB": "120"}, call_log=log)
    assert "GOMEMLIMIT" not in inherited


def test_up_status_down_with_stand_ins(fake_binaries: Binaries, tmp_path: Path) -> None:
    ports = StackPorts.ephemeral()
    stack = LocalStack(fake_binaries, ports, tmp_path / "state", startup_timeout=20)
    with stack:
        statuses = stack.status()
        assert [(s.name, s.healthy) for s in statuses] == [
            ("jaeger", True),
            ("collector", True),
            ("prometheus", True),
        ]
        assert f"127.0.0.1:{ports.prometheus}" in (tmp_path / "state/prometheus.yml").read_text()
        # `stack status`/`down` from another process find them through the pid files.
        assert main(["stack", "--state-dir", str(tmp_path / "state"), "status"]) == 0
    assert [s.pid for s in stack_status(tmp_path / "state", ports)] == [None, None, None]


def test_a_process_that_dies_fails_up_with_its_log(
    fake_binaries: Binaries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_EXIT", "1")
    stack = LocalStack(fake_binaries, StackPorts.ephemeral(), tmp_path, startup_timeout=20)
    with pytest.raises(StackError, match="refusing to start"):
        stack.up()
    assert recorded_pid(tmp_path, "jaeger") is None


def test_a_stale_pid_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "jaeger.pid").write_text(f'{{"pid": {os.getpid()}, "exe": "/not/jaeger"}}')
    assert recorded_pid(tmp_path, "jaeger") is None
    (tmp_path / "collector.pid").write_text('{"pid": 999999999, "exe": "/x"}')
    assert recorded_pid(tmp_path, "collector") is None


def test_missing_go_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(build.Path, "exists", lambda self: False)
    with pytest.raises(BuildError, match="Go toolchain"):
        build.find_go()


def test_cached_binaries_are_not_rebuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WECOM_OTEL_CACHE", str(tmp_path))
    collector, jaeger = build.collector_binary_path(), build.jaeger_binary_path()
    assert collector.name.startswith("otelcol-wecom-v0.")
    assert jaeger.name == f"jaeger-{build.JAEGER_VERSION}"
    collector.parent.mkdir(parents=True)
    collector.touch()
    jaeger.touch()
    monkeypatch.setattr(build, "find_go", lambda: pytest.fail("tried to build"))
    assert build.build_collector() == collector
    assert build.build_jaeger() == jaeger


def test_manifest_edits_change_the_collector_key(tmp_path: Path) -> None:
    manifest = build.manifest_path().read_text(encoding="utf-8")
    edited = tmp_path / "builder-config.yaml"
    edited.write_text(manifest + "\n# edited\n", encoding="utf-8")
    assert build.collector_key(edited) != build.collector_key(build.manifest_path())
    assert build.collector_key(edited).startswith("v0.")
