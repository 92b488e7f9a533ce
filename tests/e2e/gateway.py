"""The agent/gateway tier on loopback: collectors, a Prometheus, instrumented app processes.

Two gateways run the bundled single-collector config with collector/gateway/gateway.yaml on
top; an agent runs collector/gateway/agent.yaml with one of the resolver files. They listen on
loopback only. The gateways' OTLP gRPC listeners share one port on two loopback addresses
(127.0.0.2 and 127.0.0.3) because the dns resolver gives one port for every address it
resolves; everything else is on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Optional

from opentelemetry.instrumentation.wecom.stack.health import http_ok, wait_until
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from opentelemetry.instrumentation.wecom.stack.ports import free_ports, is_free
from opentelemetry.instrumentation.wecom.testing import MockWeComServer

HOST = "127.0.0.1"
GATEWAY_HOSTS = ("127.0.0.2", "127.0.0.3")
ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = HOST) -> int:
    (port,) = free_ports(1, host)
    return port


def shared_free_port(hosts: Sequence[str]) -> int:
    """A port free on every one of ``hosts`` right now."""
    for _ in range(50):
        port = free_port(hosts[0])
        if all(is_free(port, host) for host in hosts[1:]):
            return port
    raise RuntimeError(f"no port free on all of {hosts}")


class Process:
    """One server process with a log file and a health URL; it can be killed and restarted."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        health_url: str,
        log_dir: Path,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.health_url = health_url
        self.log = log_dir / f"{name}.log"
        self._child: Optional[subprocess.Popen[bytes]] = None

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def start(self, timeout: float = 60) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._child = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = self._child
        if not wait_until(
            lambda: http_ok(self.health_url), timeout, alive=lambda: child.poll() is None
        ):
            self.stop()
            raise RuntimeError(f"{self.name} did not become healthy; log:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye, like a crashed pod."""
        if self._child is not None and self._child.poll() is None:
            self._child.send_signal(signal.SIGKILL)
            self._child.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if self._child is None:
            return
        if self._child.poll() is None:
            self._child.terminate()
            try:
                self._child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait(timeout=5)
        self._child = None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def collector_argv(collector: Path, *configs: Path) -> list[str]:
    return [str(collector), *(f"--config=file:{config}" for config in configs)]


class App:
    """An instrumented app process (tests/e2e/gateway_app.py) driven one batch at a time."""

    def __init__(self, service: str, mock: MockWeComServer, env: Mapping[str, str]) -> None:
        self.service = service
        self._child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.e2e.gateway_app",
                f"--api-base-url={mock.api_base_url}",
                f"--corp-id={mock.corp_id}",
                f"--corp-secret={mock.corp_secret}",
                f"--agent-id={mock.agent_id}",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "OTEL_SERVICE_NAME": service,
                "OTEL_PYTHON_WECOM_HOSTS": mock.host,
                "OTEL_METRIC_EXPORT_INTERVAL": "1000",
                **env,
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._read()
        self.setup_calls: int = ready["setup_calls"]
        self.setup_trace: str = ready["setup_trace"]

    def _read(self) -> Any:
        stdout: Optional[IO[str]] = self._child.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"app {self.service} exited with {self._child.wait(timeout=10)}")
        return json.loads(line)

    def request(self, traces: int, error_every: int) -> None:
        stdin = self._child.stdin
        assert stdin is not None
        stdin.write(json.dumps({"traces": traces, "error_every": error_every}) + "\n")
        stdin.flush()

    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = self._read()
        return result

    def close(self) -> None:
        if self._child.poll() is None:
            with contextlib.suppress(OSError):
                assert self._child.stdin is not None
                self._child.stdin.write(json.dumps({"quit": True}) + "\n")
                self._child.stdin.close()
            try:
                self._child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait(timeout=5)


def can_private_mount() -> bool:
    """Whether this process may give a child its own /etc/hosts (a private mount namespace)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "true"], capture_output=True, check=False
    )
    return probe.returncode == 0


def with_hosts_file(hosts_file: Path, argv: Sequence[str]) -> list[str]:
    """``argv`` run in a private mount namespace whose /etc/hosts is ``hosts_file``.

    The file is bind-mounted, so rewriting it in place (same inode) changes what the
    process resolves, the way a headless Service's DNS answer changes in Kubernetes.
    """
    script = 'mount --bind "$0" /etc/hosts && exec "$@"'
    unshare = shutil.which("unshare") or "unshare"
    return [
        unshare,
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        str(hosts_file),
        *argv,
    ]


def write_hosts(path: Path, name: str, addresses: Sequence[str]) -> None:
    """Rewrite ``path`` in place (the bind mount follows the inode, not the name)."""
    lines = [f"{HOST} localhost"] + [f"{address} {name}" for address in addresses]
    with path.open("r+" if path.exists() else "w", encoding="utf-8") as out:
        out.seek(0)
        out.write("\n".join(lines) + "\n")
        out.truncate()


def prometheus_config(scrape: Mapping[str, Sequence[str]]) -> str:
    jobs = []
    for job, targets in scrape.items():
        listed = ", ".join(f'"{t}"' for t in targets)
        jobs.append(
            f"  - job_name: {job}\n    honor_labels: true\n"
            f"    static_configs:\n      - targets: [{listed}]\n"
        )
    return "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n" + "".join(
        jobs
    )


def bundle(*parts: str) -> Path:
    return bundle_dir().joinpath(*parts)
