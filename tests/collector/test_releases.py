"""``stack build``'s official release downloads, against a loopback file server.

The server serves archives and checksum files laid out like the real releases (goreleaser's
``sha256sum`` list for the collector, ``shasum -b`` for Jaeger, the binary at its real path in
the archive); the "binaries" are small scripts that answer ``validate`` like the real ones.
No network is used: the release base URLs point at the server.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest

from opentelemetry.instrumentation.wecom.stack import build, releases
from opentelemetry.instrumentation.wecom.stack.build import BuildError
from tests._support import require

PLATFORM = releases.host_platform()
VERSION = build.collector_version(build.manifest_path())
VALIDATES = b'#!/bin/sh\n[ "$1" = validate ] && exit 0\necho "fake $0 $*"\n'
REFUSES = b'#!/bin/sh\necho "Error: unknown type: \\"load_balancing\\"" >&2\nexit 1\n'


def tar_gz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileServer:
    """Serves ``root`` on 127.0.0.1; records request paths; can cut one file short."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.truncate: set[str] = set()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path in server.truncate:
                    data = (root / self.path.lstrip("/")).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def put(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FileServer]:
    files = FileServer(tmp_path / "www")
    files.thread.start()
    yield files
    files.httpd.shutdown()
    files.httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FileServer) -> Path:
    require(PLATFORM is not None, "no official release for this OS/architecture")
    monkeypatch.setenv(releases.COLLECTOR_RELEASES_ENV, f"{server.url}/collector")
    monkeypatch.setenv(releases.JAEGER_RELEASES_ENV, f"{server.url}/jaeger")
    return tmp_path / "cache"


def publish_collector(
    server: FileServer, binary: bytes = VALIDATES, listed: str = "", split: bool = True
) -> bytes:
    """otelcol-contrib's archive and its checksum: one file per artifact, as goreleaser's
    ``checksum.split`` publishes since v0.158.0, or the older list (other platforms' lines too).
    """
    assert PLATFORM is not None
    release = releases.collector_release(VERSION, *PLATFORM)
    archive = tar_gz({"otelcol-contrib": binary, "README.md": b"readme\n", "LICENSE": b"license\n"})
    directory = f"collector/v{VERSION}"
    server.put(f"{directory}/{release.archive}", archive)
    if split:
        server.put(f"{directory}/{release.archive}.sha256", (listed or sha256(archive)).encode())
        return archive
    lines = [
        f"{sha256(b'darwin')}  otelcol-contrib_{VERSION}_darwin_arm64.tar.gz",
        f"{listed or sha256(archive)}  {release.archive}",
        f"{sha256(b'deb')}  otelcol-contrib_{VERSION}_linux_amd64.deb",
    ]
    server.put(f"{directory}/{releases.COLLECTOR_CHECKSUMS}", ("\n".join(lines) + "\n").encode())
    return archive


def publish_jaeger(server: FileServer, binary: bytes = VALIDATES) -> None:
    """Jaeger's archive (binary under its directory) and the release's shasum -b list."""
    assert PLATFORM is not None
    release = releases.jaeger_release(build.JAEGER_RELEASE, *PLATFORM, tag=build.JAEGER_VERSION)
    directory = release.archive.removesuffix(".tar.gz")
    archive = tar_gz({f"{directory}/jaeger": binary, f"{directory}/example-hotrod": b"hotrod"})
    tools = f"jaeger-tools-{build.JAEGER_RELEASE}-linux-amd64.tar.gz"
    listing = f"{sha256(archive)} *{release.archive}\n{sha256(b'tools')} *{tools}\n"
    # Jaeger 2.13.0's archives are attached to the release of its v1 twin tag, v1.76.0.
    server.put(f"jaeger/{build.JAEGER_VERSION}/{release.archive}", archive)
    server.put(f"jaeger/{build.JAEGER_VERSION}/{release.checksum_files[0]}", listing.encode())


def no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> Path:
        raise AssertionError("fell back to building from Go modules")

    monkeypatch.setattr(build, "build_collector", refuse)
    monkeypatch.setattr(build, "build_jaeger", refuse)


def seeded_build(cache: Path, path: Callable[[Path], Path]) -> Path:
    """A binary where a cached download or Go build would be."""
    built = path(cache)
    built.parent.mkdir(parents=True, exist_ok=True)
    built.write_bytes(b"#!/bin/sh\necho built\n")
    return built


def go_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stands in for the OCB and ``go build`` runs (minutes each): records them, writes a stub."""
    calls: list[str] = []

    def builder(name: str, path: Callable[[Path], Path]) -> Callable[..., Path]:
        def run(cache: Path, report: Callable[[str], None] = print) -> Path:
            calls.append(name)
            return seeded_build(cache, path)

        return run

    monkeypatch.setattr(build, "build_collector", builder("collector", build.collector_binary_path))
    monkeypatch.setattr(build, "build_jaeger", builder("jaeger", build.jaeger_binary_path))
    return calls


def test_the_collector_release_is_downloaded_verified_and_installed(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_build(monkeypatch)
    publish_collector(server)
    messages: list[str] = []
    installed = build.ensure_collector(cache, messages.append)
    assert installed == build.collector_release_path(cache)
    assert installed.name == f"otelcol-contrib-{VERSION}"
    assert installed.read_bytes() == VALIDATES
    assert installed.stat().st_mode & 0o111
    release = releases.collector_release(VERSION, *PLATFORM)  # type: ignore[misc]
    assert server.requests == [
        f"/collector/v{VERSION}/{release.archive}.sha256",
        f"/collector/v{VERSION}/{release.archive}",
    ]
    assert (
        f"SHA-256 verified: {server.url}/collector/v{VERSION}/{release.archive}.sha256"
        in (messages[-1])
    )
    assert sorted(p.name for p in installed.parent.iterdir()) == [installed.name]
    # Cached: the next build fetches nothing.
    assert build.ensure_collector(cache) == installed
    assert len(server.requests) == 2


def test_the_jaeger_release_with_its_ui_is_downloaded_from_its_directory_in_the_archive(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_build(monkeypatch)
    publish_jaeger(server)
    installed = build.ensure_jaeger(cache)
    assert installed == build.jaeger_release_path(cache)
    assert installed.name == f"jaeger-{build.JAEGER_RELEASE}"
    assert installed.read_bytes() == VALIDATES


def test_a_bad_checksum_is_refused_and_nothing_is_installed(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_build(monkeypatch)
    archive = publish_collector(server, listed=sha256(b"what the publisher built"))
    with pytest.raises(BuildError, match="refusing") as refused:
        build.ensure_collector(cache)
    assert sha256(archive) in str(refused.value)
    assert sha256(b"what the publisher built") in str(refused.value)
    assert not build.collector_release_path(cache).exists()
    assert list((cache / "bin").iterdir()) == [], "a partial download was left behind"


def test_releases_before_split_checksums_are_verified_against_the_list(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_build(monkeypatch)
    publish_collector(server, split=False)
    installed = build.ensure_collector(cache)
    assert installed.read_bytes() == VALIDATES
    assert server.requests[1] == f"/collector/v{VERSION}/{releases.COLLECTOR_CHECKSUMS}"


def test_a_bad_checksum_in_the_list_is_refused_too(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_build(monkeypatch)
    publish_collector(server, listed="0" * 64, split=False)
    with pytest.raises(BuildError, match="refusing to install"):
        build.ensure_collector(cache)
    assert not build.collector_release_path(cache).exists()


def test_an_archive_the_checksum_file_does_not_list_is_refused(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_build(monkeypatch)
    publish_collector(server, split=False)
    release = releases.collector_release(VERSION, *PLATFORM)  # type: ignore[misc]
    listing = server.root / f"collector/v{VERSION}/{releases.COLLECTOR_CHECKSUMS}"
    kept = [line for line in listing.read_text().splitlines() if release.archive not in line]
    listing.write_text("\n".join(kept) + "\n")
    with pytest.raises(BuildError, match="gives no SHA-256"):
        build.ensure_collector(cache)
    assert not build.collector_release_path(cache).exists()


def test_a_checksum_file_that_holds_no_digest_is_refused(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_build(monkeypatch)
    publish_collector(server, listed="<html>not found</html>")
    with pytest.raises(BuildError, match="gives no SHA-256"):
        build.ensure_collector(cache)


def test_unreachable_releases_fall_back_to_the_go_build(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing published (404) and no server at all (connection refused): both build."""
    builds = go_builds(monkeypatch)
    messages: list[str] = []
    assert build.ensure_collector(cache, messages.append) == build.collector_binary_path(cache)
    assert "HTTP Error 404" in messages[-1]
    assert messages[-1].endswith("building from Go modules instead")

    server.httpd.shutdown()
    server.httpd.server_close()
    messages.clear()
    assert build.ensure_jaeger(cache, messages.append) == build.jaeger_binary_path(cache)
    assert "Connection refused" in messages[-1]
    assert builds == ["collector", "jaeger"]
    assert not build.jaeger_release_path(cache).exists()


def test_a_download_cut_short_falls_back_to_the_go_build(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_collector(server)
    release = releases.collector_release(VERSION, *PLATFORM)  # type: ignore[misc]
    server.truncate.add(f"/collector/v{VERSION}/{release.archive}")
    builds = go_builds(monkeypatch)
    messages: list[str] = []
    built = build.ensure_collector(cache, messages.append)
    assert builds == ["collector"]
    assert "broke off" in messages[-1]
    assert sorted(p.name for p in (cache / "bin").iterdir()) == [built.name]


def test_a_release_that_cannot_run_the_bundled_configs_is_not_used(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_collector(server, binary=REFUSES)
    builds = go_builds(monkeypatch)
    messages: list[str] = []
    assert build.ensure_collector(cache, messages.append) == build.collector_binary_path(cache)
    assert builds == ["collector"]
    assert 'unknown type: "load_balancing"' in messages[-1]
    assert not build.collector_release_path(cache).exists()


def test_from_source_does_not_try_the_releases(
    server: FileServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_collector(server)
    builds = go_builds(monkeypatch)
    assert build.ensure_collector(cache, download=False) == build.collector_binary_path(cache)
    assert builds == ["collector"]
    assert server.requests == []


def test_a_cached_release_is_preferred_to_a_cached_build(cache: Path) -> None:
    seeded_build(cache, build.collector_binary_path)
    release = seeded_build(cache, build.collector_release_path)
    assert build.ensure_collector(cache) == release


@pytest.mark.parametrize(
    ("listing", "single", "expected"),
    [
        (f"{'a' * 64}  x.tar.gz\n{'b' * 64}  y.tar.gz\n", False, "b" * 64),  # sha256sum list
        (f"{'C' * 64} *y.tar.gz\n", False, "c" * 64),  # shasum -b (Jaeger)
        ("e" * 64, True, "e" * 64),  # goreleaser split: the digest alone
        (f"{'f' * 64}  y.tar.gz\n", True, "f" * 64),
        ("e" * 64, False, None),  # a bare digest names no file in a list
        (f"{'d' * 64}  yy.tar.gz\n", False, None),
        ("not-a-digest  y.tar.gz\n", False, None),
        ("x" * 64, True, None),
        ("", True, None),
    ],
)
def test_published_sha256_reads_every_checksum_format(
    listing: str, single: bool, expected: str | None
) -> None:
    assert releases.published_sha256(listing, "y.tar.gz", single=single) == expected


def test_release_urls_are_the_official_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(releases.COLLECTOR_RELEASES_ENV, raising=False)
    monkeypatch.delenv(releases.JAEGER_RELEASES_ENV, raising=False)
    collector = releases.collector_release("0.159.0", "linux", "amd64")
    assert collector.archive_url == (
        "https://github.com/open-telemetry/opentelemetry-collector-releases/releases/download"
        "/v0.159.0/otelcol-contrib_0.159.0_linux_amd64.tar.gz"
    )
    assert collector.checksum_files == (
        "otelcol-contrib_0.159.0_linux_amd64.tar.gz.sha256",
        "opentelemetry-collector-releases_otelcol-contrib_checksums.txt",
    )
    jaeger = releases.jaeger_release("2.13.0", "linux", "amd64", tag="v1.76.0")
    assert jaeger.archive_url == (
        "https://github.com/jaegertracing/jaeger/releases/download"
        "/v1.76.0/jaeger-2.13.0-linux-amd64.tar.gz"
    )
    assert releases.jaeger_release("2.20.0", "linux", "arm64").archive_url == (
        "https://github.com/jaegertracing/jaeger/releases/download"
        "/v2.20.0/jaeger-2.20.0-linux-arm64.tar.gz"
    )
    assert jaeger.checksum_files == ("jaeger-2.13.0.sha256sum.txt",)
    assert jaeger.member == "jaeger-2.13.0-linux-amd64/jaeger"
