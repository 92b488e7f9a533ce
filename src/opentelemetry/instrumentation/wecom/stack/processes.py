"""Starting, watching and stopping the stack's three processes.

Each process gets a pid file and a log in the state directory, so ``stack down``
and ``stack status`` work from another shell than ``stack up``. A pid file is only
trusted while ``/proc/<pid>/cmdline`` still names the binary it was written for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Optional

from opentelemetry.instrumentation.wecom.stack.build import Binaries
from opentelemetry.instrumentation.wecom.stack.health import http_ok, wait_until
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir, state_dir
from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts, require_free
from opentelemetry.instrumentation.wecom.stack.render import (
    collector_env,
    jaeger_env,
    prometheus_config,
)

# Start order; stopping runs in reverse so the collector can flush to Jaeger before it goes.
COMPONENTS: tuple[str, ...] = ("jaeger", "collector", "prometheus")
_STACK_FILE = "stack.json"


class StackError(RuntimeError):
    """A process did not start, did not become healthy, or could not be stopped."""


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str
    ports: dict[str, int]


@dataclasses.dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: Optional[int]
    healthy: bool
    health_url: str
    log: Path


def urls(ports: StackPorts) -> dict[str, str]:
    """What a person opens or points an app at."""
    return {
        "OTLP gRPC (apps export here)": f"http://{HOST}:{ports.otlp_grpc}",
        "OTLP HTTP": f"http://{HOST}:{ports.otlp_http}",
        "Jaeger UI / API": f"http://{HOST}:{ports.jaeger_ui}",
        "Prometheus": f"http://{HOST}:{ports.prometheus}",
        "Collector metrics (scraped)": f"http://{HOST}:{ports.collector_prometheus}/metrics",
        "Collector health": f"http://{HOST}:{ports.collector_health}/",
    }


def _pid_file(state: Path, name: str) -> Path:
    return state / f"{name}.pid"


def _log_file(state: Path, name: str) -> Path:
    return state / "logs" / f"{name}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _cmdline(pid: int) -> Optional[list[str]]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def recorded_pid(state: Path, name: str) -> Optional[int]:
    """The pid in ``name``'s pid file if that process still runs the recorded binary."""
    try:
        record = json.loads(_pid_file(state, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = int(record["pid"])
    if not _alive(pid):
        return None
    cmdline = _cmdline(pid)
    # A script run through its shebang shows as `interpreter script ...`.
    if cmdline is not None and record["exe"] not in cmdline[:2]:
        return None  # the pid was reused by something else
    return pid


def stop_recorded(state: Path, name: str, timeout: float = 15.0) -> bool:
    """SIGTERM the recorded process, SIGKILL it after ``timeout``; True if one was running."""
    pid = recorded_pid(state, name)
    _pid_file(state, name).unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: not _alive(pid), timeout, interval=0.1):
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), 5.0, interval=0.1)
    return True


def saved_ports(state: Path) -> Optional[StackPorts]:
    """The ports the last ``up`` in ``state`` used."""
    try:
        return StackPorts(**json.loads((state / _STACK_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def last_ports() -> StackPorts:
    """The ports of the last ``wecom-otel stack up`` on this machine, or the defaults."""
    return saved_ports(state_dir()) or StackPorts()


class LocalStack:
    """Jaeger, the WeCom collector and Prometheus on 127.0.0.1 with the bundled configs.

    Usable as a context manager (tests) or through ``up()``/``down()`` (the CLI, whose
    processes outlive it). ``collector_overrides`` adds environment variables of the
    bundled collector config (e.g. a shorter ``WECOM_OTEL_DECISION_WAIT``);
    ``rule_files`` and ``scrape_interval`` replace Prometheus's rule files and intervals.
    """

    def __init__(
        self,
        binaries: Binaries,
        ports: Optional[StackPorts] = None,
        state: Optional[Path] = None,
        *,
        collector_overrides: Optional[Mapping[str, str]] = None,
        rule_files: Optional[Sequence[Path]] = None,
        scrape_interval: Optional[str] = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.binaries = binaries
        self.ports = ports or StackPorts()
        self.state = state or state_dir()
        self.collector_overrides = dict(collector_overrides or {})
        self.rule_files = list(rule_files) if rule_files is not None else None
        self.scrape_interval = scrape_interval
        self.startup_timeout = startup_timeout
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def call_log(self) -> Path:
        """The collector's call-log file (JSON lines, rotated beside it as name-<time>.jsonl)."""
        return self.state / "logs" / "wecom-calls.jsonl"

    def components(self) -> dict[str, Component]:
        bundle, ports = bundle_dir(), self.ports
        prometheus_yml = self.state / "prometheus.yml"
        return {
            "jaeger": Component(
                "jaeger",
                [
                    str(self.binaries.jaeger),
                    f"--config=file:{bundle / 'jaeger' / 'jaeger-config.yaml'}",
                ],
                jaeger_env(ports, self.state / "jaeger-badger"),
                f"http://{HOST}:{ports.jaeger_health}/status",
                {k: v for k, v in ports.as_dict().items() if k.startswith("jaeger_")},
            ),
            "collector": Component(
                "collector",
                [str(self.binaries.collector), f"--config=file:{bundle / 'otelcol-config.yaml'}"],
                collector_env(
                    ports,
                    self.state / "collector-queue",
                    self.collector_overrides,
                    call_log=self.call_log,
                ),
                f"http://{HOST}:{ports.collector_health}/",
                {
                    "otlp_grpc": ports.otlp_grpc,
                    "otlp_http": ports.otlp_http,
                    "collector_health": ports.collector_health,
                    "collector_prometheus": ports.collector_prometheus,
                    "collector_metrics": ports.collector_metrics,
                },
            ),
            "prometheus": Component(
                "prometheus",
                [
                    str(self.binaries.prometheus),
                    f"--config.file={prometheus_yml}",
                    f"--storage.tsdb.path={self.state / 'prometheus-data'}",
                    f"--web.listen-address={HOST}:{ports.prometheus}",
                    "--storage.tsdb.retention.time=1d",
                ],
                {},
                f"http://{HOST}:{ports.prometheus}/-/ready",
                {"prometheus": ports.prometheus},
            ),
        }

    def up(self) -> None:
        """Start whatever is not running yet and wait until each one is healthy."""
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / _STACK_FILE).write_text(json.dumps(self.ports.as_dict()), encoding="utf-8")
        (self.state / "prometheus.yml").write_text(
            prometheus_config(
                bundle_dir() / "prometheus" / "prometheus.yml",
                self.ports,
                self.rule_files,
                self.scrape_interval,
            ),
            encoding="utf-8",
        )
        try:
            for name in COMPONENTS:
                if recorded_pid(self.state, name) is None:
                    self.start(name)
        except BaseException:
            self.down()
            raise

    def start(self, name: str) -> None:
        component = self.components()[name]
        require_free(component.ports)
        log = _log_file(self.state, name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            child = subprocess.Popen(
                component.argv,
                env={**os.environ, **component.env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.state,
                start_new_session=True,
            )
        self._children[name] = child
        record = {"pid": child.pid, "exe": component.argv[0]}
        _pid_file(self.state, name).write_text(json.dumps(record), encoding="utf-8")
        healthy = wait_until(
            lambda: http_ok(component.health_url),
            self.startup_timeout,
            alive=lambda: child.poll() is None,
        )
        if not healthy:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            self.stop(name)
            raise StackError(
                f"{name} did not become healthy at {component.health_url} "
                f"(exit code {child.poll()}); last lines of {log}:\n{tail}"
            )

    def stop(self, name: str, timeout: float = 15.0) -> None:
        stop_recorded(self.state, name, timeout)
        child = self._children.pop(name, None)
        if child is None:
            return
        if child.poll() is None:  # its pid file was removed or rewritten: stop it directly
            child.terminate()
        try:
            child.wait(timeout=timeout)  # also reaps it, so no zombie is left
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)

    def kill(self, name: str) -> None:
        """SIGKILL ``name`` (a crash: no flush, no clean shutdown) and reap it."""
        pid = recorded_pid(self.state, name)
        _pid_file(self.state, name).unlink(missing_ok=True)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not _alive(pid), 5.0, interval=0.05)
        child = self._children.pop(name, None)
        if child is not None:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=5)

    def pid(self, name: str) -> Optional[int]:
        """The running process of ``name``, if any."""
        return recorded_pid(self.state, name)

    def down(self) -> None:
        for name in reversed(COMPONENTS):
            self.stop(name)

    def status(self) -> list[ComponentStatus]:
        return stack_status(self.state, self.ports)

    def __enter__(self) -> LocalStack:
        self.up()
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.down()


def stack_status(state: Path, ports: StackPorts) -> list[ComponentStatus]:
    health = {
        "jaeger": f"http://{HOST}:{ports.jaeger_health}/status",
        "collector": f"http://{HOST}:{ports.collector_health}/",
        "prometheus": f"http://{HOST}:{ports.prometheus}/-/ready",
    }
    statuses = []
    for name in COMPONENTS:
        pid = recorded_pid(state, name)
        healthy = pid is not None and http_ok(health[name])
        statuses.append(ComponentStatus(name, pid, healthy, health[name], _log_file(state, name)))
    return statuses


def stop_all(state: Path) -> Iterator[tuple[str, bool]]:
    """Stop every recorded process in ``state``, yielding (name, was_running)."""
    for name in reversed(COMPONENTS):
        yield name, stop_recorded(state, name)
