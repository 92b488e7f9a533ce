"""The official release artifacts of the collector and Jaeger: find, download, verify, unpack.

``wecom-otel stack build`` tries these before building from Go modules. A release is used only
when its archive's SHA-256 matches the one in the checksum file the project publishes beside it;
a mismatch (or an archive the checksum file does not list) is refused, never installed.

- Collector: ``otelcol-contrib`` from open-telemetry/opentelemetry-collector-releases (it has
  every component the bundle's configs use; ``stack build`` checks that with ``validate``).
  ``otelcol-contrib_<v>_<os>_<arch>.tar.gz`` and
  ``opentelemetry-collector-releases_otelcol-contrib_checksums.txt`` (goreleaser, sha256sum
  format) under ``releases/download/v<v>/``.
- Jaeger: ``jaeger-<v>-<os>-<arch>.tar.gz`` (the binary is ``jaeger-<v>-<os>-<arch>/jaeger``)
  and ``jaeger-<v>.sha256sum.txt`` (``shasum -b`` format) from jaegertracing/jaeger. The release
  binary embeds the Jaeger UI, which a build from the Go module cannot.

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


class ChecksumMismatch(RuntimeError):
    """The download does not match its published checksum: refused, nothing installed."""


@dataclasses.dataclass(frozen=True)
class Release:
    """One release archive, its checksum file, and the binary inside it."""

    name: str
    version: str
    url: str  # the release's download directory, ending in /v<version>
    archive: str
    checksums: str
    member: str  # the binary's path inside the archive

    @property
    def archive_url(self) -> str:
        return f"{self.url}/{self.archive}"

    @property
    def checksums_url(self) -> str:
        return f"{self.url}/{self.checksums}"


def host_platform() -> Optional[tuple[str, str]]:
    """(os, arch) in Go's spelling, or None where no release is published for this machine."""
    system, arch = _SYSTEMS.get(platform.system()), _ARCHES.get(platform.machine().lower())
    return (system, arch) if system and arch else None


def _base(env: str, default: str) -> str:
    return (os.environ.get(env) or default).rstrip("/")


def collector_release(version: str, system: str, arch: str) -> Release:
    """``otelcol-contrib`` ``version`` (``0.159.0``) for ``system``/``arch`` (``linux/amd64``)."""
    return Release(
        name=CONTRIB,
        version=version,
        url=f"{_base(COLLECTOR_RELEASES_ENV, COLLECTOR_RELEASES_URL)}/v{version}",
        archive=f"{CONTRIB}_{version}_{system}_{arch}.tar.gz",
        checksums=COLLECTOR_CHECKSUMS,
        member=CONTRIB,
    )


def jaeger_release(version: str, system: str, arch: str) -> Release:
    """Jaeger ``version`` (``2.13.0``) for ``system``/``arch``."""
    directory = f"jaeger-{version}-{system}-{arch}"
    return Release(
        name="jaeger",
        version=version,
        url=f"{_base(JAEGER_RELEASES_ENV, JAEGER_RELEASES_URL)}/v{version}",
        archive=f"{directory}.tar.gz",
        checksums=f"jaeger-{version}.sha256sum.txt",
        member=f"{directory}/jaeger",
    )


def published_sha256(checksums: str, archive: str) -> Optional[str]:
    """The SHA-256 a ``sha256sum``/``shasum -b`` listing gives ``archive``, if it lists it."""
    for line in checksums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == archive:
            digest = parts[0].lower()
            if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
                return digest
    return None


def _open(url: str, timeout: float) -> Any:
    try:
        return urllib.request.urlopen(url, timeout=timeout)
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


def install(release: Release, target: Path, timeout: float = 30.0) -> Path:
    """Download ``release``, verify it against its checksum file, unpack its binary to ``target``.

    Raises:
        ReleaseUnavailable: the checksum file or the archive could not be fetched, or the
            archive does not hold the binary where this release layout puts it.
        ChecksumMismatch: the archive is not listed or its SHA-256 differs; nothing is installed.
    """
    expected = published_sha256(_fetch_text(release.checksums_url, timeout), release.archive)
    if expected is None:
        raise ChecksumMismatch(
            f"{release.checksums_url} lists no SHA-256 for {release.archive}: refusing it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{release.name}-") as scratch:
        archive = Path(scratch) / release.archive
        actual = _fetch_file(release.archive_url, archive, timeout)
        if actual != expected:
            raise ChecksumMismatch(
                f"{release.archive_url} has SHA-256 {actual}, but {release.checksums} publishes "
                f"{expected}: refusing to install it (a corrupted or tampered download)"
            )
        partial = Path(scratch) / "binary"
        _extract(archive, release.member, partial)
        os.replace(partial, target)
    return target
