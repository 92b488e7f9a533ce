"""A loopback HTTP/1.1 server that writes exactly the bytes a test asks for.

``http.server`` and the mock normalise what they send (status line, header
case, framing); a fuzz of the client side needs the odd cases too: a body cut
short of its ``Content-Length``, chunked framing with a bad chunk, a body that
ends at the connection close, a connection reset in the middle of the body,
``Content-Encoding`` that lies. :class:`Wire` says what to write;
:class:`WireServer` writes it for every request whose query holds ``case=<id>``.

Each connection serves one request and is then closed (FIN, or RST when the
wire says so), so a client that pools connections never sees a stale one and
the bare and the instrumented runs of a case get the same bytes in the same
order. A reset is sent only once the client's kernel has acknowledged every
byte written before it (``SIOCOUTQ`` is 0): Linux still delivers data received
before an RST, so the client reads the same bytes and then the same error, at
any scheduling.
"""

from __future__ import annotations

import fcntl
import itertools
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import parse_qs, urlsplit

_SIOCOUTQ = 0x5411  # linux/sockios.h: bytes not yet acknowledged by the peer
_ACK_WAIT_S = 2.0
_IO_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Wire:
    """One HTTP response, byte for byte.

    ``framing``: ``length`` (a ``Content-Length`` header), ``chunked``
    (``Transfer-Encoding: chunked``, one chunk per ``segments`` piece) or
    ``close`` (neither: the body ends with the connection). ``declared_extra``
    adds to the declared length, so the body is cut short of it.
    ``send_bytes`` cuts what is actually written (status line and headers
    included) to that many bytes. ``end`` is ``fin`` or ``rst``.
    """

    status_line: bytes = b"HTTP/1.1 200 OK"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    framing: str = "length"
    segments: tuple[int, ...] = ()
    declared_extra: int = 0
    bad_chunk: bool = False
    send_bytes: Optional[int] = None
    end: str = "fin"

    def encode(self) -> bytes:
        """Everything written on the socket, before any cut."""
        head = [self.status_line]
        head.extend(name + b": " + value for name, value in self.headers)
        if self.framing == "length":
            head.append(b"Content-Length: %d" % (len(self.body) + self.declared_extra))
        elif self.framing == "chunked":
            head.append(b"Transfer-Encoding: chunked")
        head.append(b"Connection: close")
        data = b"\r\n".join(head) + b"\r\n\r\n"
        if self.framing != "chunked":
            return data + self.body
        chunks = []
        for piece in _split(self.body, self.segments):
            size = b"%x" % len(piece)
            chunks.append((b"zz" if self.bad_chunk else size) + b"\r\n" + piece + b"\r\n")
        return data + b"".join(chunks) + b"0\r\n\r\n"


def _split(body: bytes, segments: tuple[int, ...]) -> Iterator[bytes]:
    start = 0
    for size in segments:
        if start >= len(body):
            return
        yield body[start : start + max(size, 1)]
        start += max(size, 1)
    if start < len(body):
        yield body[start:]


@dataclass
class _Cases:
    by_id: dict[str, dict[str, Wire]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=itertools.count)


class WireServer:
    """Serves registered :class:`Wire` responses on one loopback address.

    Several servers may share one case table (``cases=``), so a redirect on one
    address can point at a path answered by another.
    """

    def __init__(self, host: str = "127.0.0.1", cases: Optional[_Cases] = None) -> None:
        self._cases = cases if cases is not None else _Cases()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, name="wire-accept", daemon=True)

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"

    def sibling(self, host: str) -> WireServer:
        """A server on another loopback address answering the same cases."""
        return WireServer(host, self._cases)

    def register(self, responses: dict[str, Wire]) -> str:
        """Register responses keyed ``host:port/path``; returns the id to put in ``?case=``."""
        with self._cases.lock:
            case = str(next(self._cases.ids))
            self._cases.by_id[case] = responses
        return case

    def forget(self, case: str) -> None:
        with self._cases.lock:
            self._cases.by_id.pop(case, None)

    def __enter__(self) -> WireServer:
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._accepter.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)  # closing a listener does not wake a blocked accept()
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(_IO_TIMEOUT_S)
        try:
            wire = self._wire_for(_read_request_target(connection))
            data = wire.encode()
            if wire.send_bytes is not None:
                data = data[: wire.send_bytes]
            for piece in _split(data, _write_sizes(wire, len(data))):
                connection.sendall(piece)
            if wire.end == "rst":
                _wait_until_acknowledged(connection)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                connection.shutdown(socket.SHUT_WR)
                _drain(connection)
        except OSError:
            pass  # the client closed early: normal for the early-close modes
        finally:
            connection.close()

    def _wire_for(self, target: str) -> Wire:
        parts = urlsplit(target)
        case = parse_qs(parts.query).get("case", [""])[0]
        with self._cases.lock:
            responses = self._cases.by_id.get(case, {})
        missing = Wire(b"HTTP/1.1 404 Not Found", body=b"no such case")
        return responses.get(f"{self.authority}{parts.path}", missing)


def _write_sizes(wire: Wire, total: int) -> tuple[int, ...]:
    """Write chunked bodies piece by piece (so clients see separate reads); others at once."""
    return (total,) if wire.framing != "chunked" else (256,) * (total // 256 + 1)


def _read_request_target(connection: socket.socket) -> str:
    """Read one request (head and ``Content-Length`` body); return its request target."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = connection.recv(65536)
        if not piece:
            raise OSError("client closed before the end of the request head")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        piece = connection.recv(65536)
        if not piece:
            break
        rest += piece
    return lines[0].split(b" ")[1].decode("latin-1")


def _wait_until_acknowledged(connection: socket.socket) -> None:
    deadline = time.monotonic() + _ACK_WAIT_S
    while time.monotonic() < deadline:
        unacknowledged = struct.unpack("i", fcntl.ioctl(connection, _SIOCOUTQ, b"\0" * 4))[0]
        if unacknowledged == 0:
            return
        time.sleep(0.0005)


def _drain(connection: socket.socket) -> None:
    """Read until the client closes, so our close never resets a connection it still reads."""
    connection.settimeout(_ACK_WAIT_S)
    try:
        while connection.recv(65536):
            pass
    except OSError:
        pass
