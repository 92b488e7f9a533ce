"""The stack's TCP ports: defaults, overrides, and checks that they are free."""

from __future__ import annotations

import dataclasses
import random
import socket
import threading
from collections.abc import Iterable, Mapping

HOST = "127.0.0.1"

# Where free_ports() looks: below the kernel's range for outgoing connections, so a client
# connection made between choosing a port and binding it cannot take the port.
_LOWEST_PORT = 10_000
_EPHEMERAL_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"


class _HandedOut:
    """Ports :func:`free_ports` returned in this process, never returned twice.

    Stacks started side by side (the fault tests run five at once) each choose their ports,
    then start their servers one after another; without this, one stack could be given a port
    another was given and has not bound yet. At most half the range is remembered, then the
    record starts again (those stacks have long bound their ports or stopped).
    """

    def __init__(self) -> None:
        self._ports: set[int] = set()
        self._lock = threading.Lock()

    def claim(self, port: int, range_size: int) -> bool:
        with self._lock:
            if port in self._ports:
                return False
            if len(self._ports) >= range_size // 2:
                self._ports.clear()
            self._ports.add(port)
            return True

    def release(self, port: int) -> None:
        with self._lock:
            self._ports.discard(port)


_HANDED_OUT = _HandedOut()
# Its own generator: code that seeds the global one (a test framework) cannot repeat its choices.
_RANDOM = random.SystemRandom()


class PortInUseError(RuntimeError):
    """A port the stack needs is taken by another process."""


@dataclasses.dataclass(frozen=True)
class StackPorts:
    """Every port the three processes listen on, all on 127.0.0.1.

    The Jaeger ports are moved off the collector's defaults (4317/4318/13133/8888)
    so both run on one host; the names are those ``--port NAME=PORT`` accepts.
    """

    otlp_grpc: int = 4317
    otlp_http: int = 4318
    collector_health: int = 13133
    collector_prometheus: int = 8889
    collector_metrics: int = 8888
    jaeger_otlp_grpc: int = 14317
    jaeger_otlp_http: int = 14318
    jaeger_ui: int = 16686
    jaeger_grpc: int = 16685
    jaeger_health: int = 14133
    jaeger_metrics: int = 14269
    prometheus: int = 9090

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    def with_overrides(self, overrides: Mapping[str, int]) -> StackPorts:
        unknown = sorted(set(overrides) - set(self.names()))
        if unknown:
            raise ValueError(f"unknown port name(s) {unknown}; known: {', '.join(self.names())}")
        return dataclasses.replace(self, **dict(overrides))

    @classmethod
    def ephemeral(cls) -> StackPorts:
        """Ports free right now (for tests that run beside a real stack), see :func:`free_ports`."""
        return cls(*free_ports(len(cls.names())))

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def url(self, name: str) -> str:
        """``http://127.0.0.1:PORT`` for the port called ``name`` (``"jaeger_ui"`` ...)."""
        return f"http://{HOST}:{getattr(self, name)}"


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports that are free on ``host`` right now, for servers started next.

    They are chosen at random below the kernel's range for outgoing connections (port 0 would
    give one inside it): a port handed out by port 0 is released until the server binds it, and
    any client connection on the machine may take it meanwhile. None is one this process was
    given before (see :class:`_HandedOut`), and each is checked with :func:`_probe`.
    """
    highest = _ephemeral_start() - 1
    range_size = highest - _LOWEST_PORT + 1
    ports: list[int] = []
    while len(ports) < count:
        port = _RANDOM.randint(_LOWEST_PORT, highest)
        if not _HANDED_OUT.claim(port, range_size):
            continue
        if is_free(port, host):
            ports.append(port)
        else:
            _HANDED_OUT.release(port)
    return ports


def _ephemeral_start() -> int:
    try:
        with open(_EPHEMERAL_RANGE, encoding="ascii") as ranges:
            low = int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32_768
    return max(low, _LOWEST_PORT + 1_000)


def parse_overrides(items: Iterable[str]) -> dict[str, int]:
    """``["jaeger_ui=26686", ...]`` from ``--port`` options into a mapping."""
    overrides: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise ValueError(f"--port expects NAME=PORT, got {item!r}")
        overrides[name.strip()] = int(value)
    return overrides


def is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could bind ``port`` on ``host`` now (nothing listens on it)."""
    try:
        _probe(port, host).close()
    except OSError:
        return False
    return True


def _probe(port: int, host: str) -> socket.socket:
    """A socket bound to ``port`` with ``SO_REUSEADDR``, as the servers bind theirs.

    A child process forked by another thread while a probe is open keeps a copy of it until
    it execs, and under load that takes a while. With ``SO_REUSEADDR`` that copy (bound, not
    listening) neither fails a later check nor the server's own bind (the Go binaries and
    Python's servers set it too); without it, the port looks taken until the child execs.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def require_free(ports: Mapping[str, int]) -> None:
    busy = {name: port for name, port in ports.items() if not is_free(port)}
    if busy:
        listed = ", ".join(f"{name}={port}" for name, port in sorted(busy.items()))
        raise PortInUseError(
            f"port(s) already in use on {HOST}: {listed}. Stop what holds them "
            f"(`wecom-otel stack status`) or pick others with --port NAME=PORT."
        )
