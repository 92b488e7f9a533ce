"""The official release artifacts of the collector and Jaeger: find, download, verify, unpack.

``wecom-otel stack build`` tries these before building from Go modules. A release is used only
when its archive's SHA-256 matches the one in the checksum file the project publishes beside it;
a mismatch (or an archive the checksum file does not list) is refused, never installed.

- Collector: ``otelcol-contrib`` from open-telemetry/opentelemetry-collector-releases (it has
  every component the bundle's configs use; ``stack build`` checks that with ``validate``):
  ``otelcol-contrib_<v>_<os>_<arch>.tar.gz`` under ``releases/download/v<v>/``. Its checksum is
  published by goreleaser, since v0.158.0 one file per artifact (``checksum.split``:
  ``<archive>.sha256``, the bare hex digest), before that in one list
  (``opentelemetry-collector-releases_otelcol-contrib_checksums.txt``, ``sha256sum`` format).
  Both are tried, in that order.
- Jaeger: ``jaeger-<v>-<os>-<arch>.tar.gz`` (the binary is ``jaeger-<v>-<os>-<arch>/jaeger``)
  and ``jaeger-<v>.sha256sum.txt`` (``shasum -b`` format) from jaegertracing/jaeger, attached to
  the v1 twin tag's release up to v2.13.0 (``v1.76.0``). The release binary embeds the Jaeger UI,
  which a build from the Go module cannot.

``WECOM_OTEL_COLLECTOR_RELEASES_URL`` / ``WECOM_OTEL_JAEGER_RELEASES_URL`` replace the
``.../releases/download`` base, for a mirror (an internal artifact store, or a test server).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import platform
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

COLLECTOR_RELEASES_ENV = "WECOM_OTEL_COLLECTOR_RELEASES_URL"
JAEGER_RELEASES_ENV = "WECOM_OTEL_JAEGER_RELEASES_URL"
COLLECTOR_RELEASES_URL = (
    "https://github.com/open-telemetry/opentelemetry-collector-releases/releases/download"
)
JAEGER_RELEASES_URL = "https://github.com/jaegertracing/jaeger/releases/download"
CONTRIB = "otelcol-contrib"
COLLECTOR_CHECKSUMS = f"opentelemetry-collector-releases_{CONTRIB}_checksums.txt"
_CHUNK = 1 << 20
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_SYSTEMS = {"Linux": "linux", "Darwin": "darwin"}


class ReleaseUnavailable(RuntimeError):
    """The release could not be fetched (no network, no such file): building is the fallback."""


class ReleaseNotFound(ReleaseUnavailable):
    """The server answered 404: that file is not published (another layout may be)."""


class ChecksumMismatch(RuntimeError):
    """The download does not match its published checksum: refused, nothing installed."""


@dataclasses.dataclass(frozen=True)
class Release:
    """One release archive, its checksum file, and the binary inside it."""

    name: str
    version: str
    url: str  # the release's download directory, ending in /v<version>
    archive: str
    checksum_files: tuple[str, ...]  # tried in order; the first one published is used
    member: str  # the binary's path inside the archive

    @property
    def archive_url(self) -> str:
        return f"{self.url}/{self.archive}"


def host_platform() -> Optional[tuple[str, str]]:
    """(os, arch) in Go's spelling, or None where no release is published for this machine."""
    system, arch = _SYSTEMS.get(platform.system()), _ARCHES.get(platform.machine().lower())
    return (system, arch) if system and arch else None


def _base(env: str, default: str) -> str:
    return (os.environ.get(env) or default).rstrip("/")


def collector_release(version: str, system: str, arch: str) -> Release:
    """``otelcol-contrib`` ``version`` (``0.159.0``) for ``system``/``arch`` (``linux/amd64``)."""
    archive = f"{CONTRIB}_{version}_{system}_{arch}.tar.gz"
    return Release(
        name=CONTRIB,
        version=version,
        url=f"{_base(COLLECTOR_RELEASES_ENV, COLLECTOR_RELEASES_URL)}/v{version}",
        archive=archive,
        checksum_files=(f"{archive}.sha256", COLLECTOR_CHECKSUMS),
        member=CONTRIB,
    )


def jaeger_release(version: str, system: str, arch: str, tag: Optional[str] = None) -> Release:
    """Jaeger ``version`` (``2.13.0``) for ``system``/``arch``, attached to release ``tag``.

    Up to v2.13.0 each v2 release had a v1 twin tag, and the release workflow attached the
    archives to the v1 tag's release (``v1.76.0/jaeger-2.13.0-linux-amd64.tar.gz``); later
    releases use ``v<version>``, the default.
    """
    directory = f"jaeger-{version}-{system}-{arch}"
    return Release(
        name="jaeger",
        version=version,
        url=f"{_base(JAEGER_RELEASES_ENV, JAEGER_RELEASES_URL)}/{tag or f'v{version}'}",
        archive=f"{directory}.tar.gz",
        checksum_files=(f"jaeger-{version}.sha256sum.txt",),
        member=f"{directory}/jaeger",
    )


def _digest(text: str) -> Optional[str]:
    digest = text.lower()
    return digest if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) else None


def published_sha256(checksums: str, archive: str, *, single: bool = False) -> Optional[str]:
    """The SHA-256 a checksum file gives ``archive``, if it gives one.

    A list (``sha256sum``, ``shasum -b``) names each file; a ``single`` file (goreleaser's split
    ``<archive>.sha256``) holds one digest alone, or one line naming ``archive``.
    """
    lines = [line.split() for line in checksums.splitlines() if line.strip()]
    if single and len(lines) == 1 and len(lines[0]) == 1:
        return _digest(lines[0][0])
    for parts in lines:
        if len(parts) == 2 and parts[1].lstrip("*") == archive:
            return _digest(parts[0])
    return None


def _open(url: str, timeout: float) -> Any:
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        kind = ReleaseNotFound if error.code == 404 else ReleaseUnavailable
        raise kind(f"cannot download {url}: {error}") from error
    except (OSError, ValueError, http.client.HTTPException) as error:  # URLError is an OSError
        raise ReleaseUnavailable(f"cannot download {url}: {error}") from error


def _fetch_text(url: str, timeout: float) -> str:
    with _open(url, timeout) as response:
        try:
            data: bytes = response.read(4 * _CHUNK)
        except (OSError, http.client.HTTPException) as error:
            raise ReleaseUnavailable(f"download of {url} broke off: {error!r}") from error
    return data.decode("utf-8", errors="replace")


def _fetch_file(url: str, target: Path, timeout: float) -> str:
    """Stream ``url`` into ``target``; its SHA-256. A body shorter than announced is unavailable."""
    digest = hashlib.sha256()
    received = 0
    with _open(url, timeout) as response, target.open("wb") as out:
        announced = response.headers.get("Content-Length")
        try:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
        except (OSError, http.client.HTTPException) as error:
            raise ReleaseUnavailable(f"download of {url} broke off: {error!r}") from error
    if announced is not None and announced.isdigit() and received != int(announced):
        raise ReleaseUnavailable(
            f"download of {url} broke off after {received} of {announced} bytes"
        )
    return digest.hexdigest()


def _extract(archive: Path, member: str, target: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        try:
            info = tar.getmember(member)
        except KeyError:
            raise ReleaseUnavailable(f"{archive.name} has no {member}") from None
        if not info.isfile():
            raise ReleaseUnavailable(f"{member} in {archive.name} is not a regular file")
        source = tar.extractfile(info)
        assert source is not None  # a regular file always has content
        with source, target.open("wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
    target.chmod(0o755)


def _published(release: Release, timeout: float) -> tuple[str, str]:
    """(expected SHA-256 of the archive, the checksum file's URL), from the first file published."""
    missing: Optional[ReleaseNotFound] = None
    for name in release.checksum_files:
        url = f"{release.url}/{name}"
        try:
            text = _fetch_text(url, timeout)
        except ReleaseNotFound as error:
            missing = error
            continue
        expected = published_sha256(
            text, release.archive, single=name == f"{release.archive}.sha256"
        )
        if expected is None:
            raise ChecksumMismatch(f"{url} gives no SHA-256 for {release.archive}: refusing it")
        return expected, url
    assert missing is not None  # checksum_files is never empty
    raise missing


def install(release: Release, target: Path, timeout: float = 30.0) -> str:
    """Download ``release``, verify it against its checksum file, unpack its binary to ``target``.

    Returns the URL of the checksum file the archive matched.

    Raises:
        ReleaseUnavailable: no checksum file or archive could be fetched, or the archive does not
            hold the binary where this release layout puts it.
        ChecksumMismatch: the archive is not listed or its SHA-256 differs; nothing is installed.
    """
    expected, checksums_url = _published(release, timeout)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{release.name}-") as scratch:
        archive = Path(scratch) / release.archive
        actual = _fetch_file(release.archive_url, archive, timeout)
        if actual != expected:
            raise ChecksumMismatch(
                f"{release.archive_url} has SHA-256 {actual}, but {checksums_url} publishes "
                f"{expected}: refusing to install it (a corrupted or tampered download)"
            )
        partial = Path(scratch) / "binary"
        _extract(archive, release.member, partial)
        os.replace(partial, target)
    return checksums_url
