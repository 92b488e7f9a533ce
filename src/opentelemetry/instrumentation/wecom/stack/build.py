"""Download, build or find the stack's binaries and cache them outside the repository.

- Where the official release artifacts can be downloaded, the collector (``otelcol-contrib``)
  and Jaeger come from them, verified against their published checksums (``releases.py``); the
  collector is used only if it validates the bundled configs. A checksum mismatch is refused
  with an error. When the releases cannot be fetched (no network, a machine that reaches only
  package registries), the binaries are built from Go modules as below.
- The collector is built with the OpenTelemetry Collector Builder (OCB) from
  ``collector/builder-config.yaml``. It is cached under a key made of the core
  version and a hash of the manifest, so editing the manifest triggers a rebuild.
- Jaeger v2 is built from its Go module. ``go install jaeger/cmd/jaeger@<version>``
  cannot be used: the module has a ``replace`` directive, which ``go install``
  refuses, and its v2.x tags are not valid versions for the module path. Building
  from the downloaded module honours its own go.mod and go.sum.
- Prometheus (and promtool) come from the distribution: Debian's ``prometheus``
  package, installed with apt-get when missing and running as root.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional

from opentelemetry.instrumentation.wecom.stack import releases
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir, cache_dir

# Jaeger v1.76.0 is the same commit as Jaeger v2.13.0 (the last release with a twin v1 tag). It is
# the newest Jaeger whose module and dependencies the Go module proxy used by our CI serves.
JAEGER_MODULE = "github.com/jaegertracing/jaeger"
JAEGER_VERSION = "v1.76.0"
JAEGER_RELEASE = "2.13.0"  # the release made from JAEGER_VERSION's commit
BUILDER_MODULE = "go.opentelemetry.io/collector/cmd/builder"
COLLECTOR_NAME = "otelcol-wecom"

_SERVICE_GOMOD = re.compile(r"go\.opentelemetry\.io/collector/service\s+(v\d+\.\d+\.\d+)")
_OUTPUT_PATH = re.compile(r"^(\s*output_path:).*$", re.MULTILINE)

Reporter = Callable[[str], None]


class BuildError(RuntimeError):
    """A binary could not be found or built; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Binaries:
    collector: Path
    jaeger: Path
    prometheus: Path
    promtool: Path


def _quiet(_: str) -> None:
    return None


def go_env() -> dict[str, str]:
    """The environment for go commands: never download another toolchain."""
    env = dict(os.environ)
    env["GOTOOLCHAIN"] = "local"
    return env


def find_go() -> str:
    go = shutil.which("go") or (
        "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None
    )
    if go is None:
        raise BuildError(
            "the Go toolchain (`go`, 1.24 or newer) is needed to build the collector and Jaeger: "
            "install it (https://go.dev/doc/install or `apt-get install golang`) and put it on PATH"
        )
    return go


def manifest_path() -> Path:
    return bundle_dir() / "builder-config.yaml"


def collector_key(manifest: Path) -> str:
    """``v0.159.0-<12 hex>``: the core version and a hash of the manifest text."""
    text = manifest.read_text(encoding="utf-8")
    match = _SERVICE_GOMOD.search(text)
    if match is None:
        raise BuildError(f"{manifest}: no go.opentelemetry.io/collector/service version found")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{match.group(1)}-{digest}"


def collector_version(manifest: Path) -> str:
    """The collector core version the manifest pins, ``0.159.0``: the matching contrib release."""
    return collector_key(manifest).split("-", 1)[0].removeprefix("v")


def collector_release_path(cache: Optional[Path] = None) -> Path:
    version = collector_version(manifest_path())
    return (cache or cache_dir()) / "bin" / f"{releases.CONTRIB}-{version}"


def jaeger_release_path(cache: Optional[Path] = None) -> Path:
    return (cache or cache_dir()) / "bin" / f"jaeger-{JAEGER_RELEASE}"


def collector_binary_path(cache: Optional[Path] = None) -> Path:
    key = collector_key(manifest_path())
    return (cache or cache_dir()) / "bin" / f"{COLLECTOR_NAME}-{key}"


def jaeger_binary_path(cache: Optional[Path] = None) -> Path:
    return (cache or cache_dir()) / "bin" / f"jaeger-{JAEGER_VERSION}"


def _run(cmd: list[str], *, cwd: Optional[Path], env: dict[str, str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        result = subprocess.run(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        raise BuildError(f"`{' '.join(cmd)}` failed (full log: {log}):\n" + "\n".join(tail))


def go_install(package: str, version: str, binary: str, target: Path, log: Path) -> Path:
    """``go install package@version``, its ``binary`` moved to ``target``; cached: a ``target``
    that exists is returned as it is. A failure raises :class:`BuildError` (log tail included)."""
    if target.exists():
        return target
    gobin = target.parent.parent / "tmp" / target.name
    env = go_env()
    env["GOBIN"] = str(gobin)
    _run([find_go(), "install", f"{package}@{version}"], cwd=None, env=env, log=log)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(gobin / binary, target)
    return target


def go_module_dir(module: str, version: str) -> Path:
    """The source tree of ``module@version``, downloaded through the Go module proxy."""
    download = subprocess.run(
        [find_go(), "mod", "download", "-json", f"{module}@{version}"],
        env=go_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if download.returncode != 0:
        raise BuildError(
            f"go mod download {module}@{version} failed:\n{download.stdout}{download.stderr}"
        )
    return Path(json.loads(download.stdout)["Dir"])


def build_collector(cache: Optional[Path] = None, report: Reporter = _quiet) -> Path:
    """The cached collector binary, built with OCB from the bundled manifest when missing."""
    cache = cache or cache_dir()
    target = collector_binary_path(cache)
    if target.exists():
        return target
    manifest = manifest_path()
    key = collector_key(manifest)
    version = key.split("-", 1)[0]
    log = cache / "logs" / f"build-{COLLECTOR_NAME}-{key}.log"
    started = time.monotonic()
    report(f"building {COLLECTOR_NAME} {key} with OCB {version} (log: {log}) ...")
    builder = go_install(BUILDER_MODULE, version, "builder", cache / "bin" / f"ocb-{version}", log)
    work = cache / "build" / f"{COLLECTOR_NAME}-{key}"
    work.mkdir(parents=True, exist_ok=True)
    rendered = work / "builder-config.yaml"
    text = manifest.read_text(encoding="utf-8")
    rendered.write_text(_OUTPUT_PATH.sub(rf"\1 {work / 'src'}", text, count=1), encoding="utf-8")
    _run([str(builder), f"--config={rendered}"], cwd=work, env=go_env(), log=log)
    _publish(work / "src" / COLLECTOR_NAME, target)
    report(f"built {target} in {time.monotonic() - started:.0f}s")
    return target


def build_jaeger(cache: Optional[Path] = None, report: Reporter = _quiet) -> Path:
    """The cached Jaeger v2 binary, built from its Go module when missing."""
    cache = cache or cache_dir()
    target = jaeger_binary_path(cache)
    if target.exists():
        return target
    log = cache / "logs" / f"build-jaeger-{JAEGER_VERSION}.log"
    started = time.monotonic()
    report(f"building Jaeger {JAEGER_MODULE}@{JAEGER_VERSION} (log: {log}) ...")
    source = go_module_dir(JAEGER_MODULE, JAEGER_VERSION)
    partial = target.with_name(target.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [find_go(), "build", "-trimpath", "-ldflags=-s -w", "-o", str(partial), "./cmd/jaeger"],
        cwd=source,
        env=go_env(),
        log=log,
    )
    os.replace(partial, target)
    report(f"built {target} in {time.monotonic() - started:.0f}s")
    return target


def _publish(built: Path, target: Path) -> None:
    if not built.exists():
        raise BuildError(f"the builder finished but {built} is missing")
    partial = target.with_name(target.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built, partial)
    os.replace(partial, target)


def _which(name: str) -> Optional[Path]:
    found = shutil.which(name)
    return Path(found) if found else None


def find_prometheus() -> tuple[Optional[Path], Optional[Path]]:
    return _which("prometheus"), _which("promtool")


def ensure_prometheus(report: Reporter = _quiet) -> tuple[Path, Path]:
    """prometheus and promtool from PATH, installed from Debian's package when missing."""
    prometheus, promtool = find_prometheus()
    if prometheus is not None and promtool is not None:
        return prometheus, promtool
    apt_get = shutil.which("apt-get")
    if apt_get is None or os.geteuid() != 0:
        raise BuildError(
            "prometheus/promtool not found on PATH; install them (Debian/Ubuntu: "
            "`sudo apt-get install prometheus`, or a release from prometheus.io) and retry"
        )
    report("installing prometheus with apt-get ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log = cache_dir() / "logs" / "apt-get-prometheus.log"
    _run([apt_get, "update", "-qq"], cwd=None, env=env, log=log)
    _run([apt_get, "install", "-y", "-qq", "prometheus"], cwd=None, env=env, log=log)
    _stop_packaged_service()
    prometheus, promtool = find_prometheus()
    if prometheus is None or promtool is None:
        raise BuildError(f"apt-get installed prometheus but it is not on PATH (log: {log})")
    return prometheus, promtool


def _stop_packaged_service() -> None:
    """The package may start a system Prometheus on :9090; the stack runs its own."""
    init_script = Path("/etc/init.d/prometheus")
    if init_script.exists():
        subprocess.run([str(init_script), "stop"], capture_output=True, check=False)


# Every collector config the bundle ships, as `--config` layers: a downloaded otelcol-contrib is
# used only if it runs all of them (it has every component they name).
_COLLECTOR_CONFIGS = (
    ("otelcol-config.yaml",),
    ("otelcol-config.yaml", "gateway/gateway.yaml"),
    ("gateway/agent.yaml", "gateway/resolver-static.yaml"),
)
_JAEGER_CONFIGS = (("jaeger/jaeger-config.yaml",),)


def _validates(binary: Path, layers: tuple[tuple[str, ...], ...]) -> Optional[str]:
    """None if ``binary validate`` accepts every bundled config, else why not."""
    bundle = bundle_dir()
    for configs in layers:
        if not all((bundle / c).is_file() for c in configs):
            continue  # a bundle without that config (an older checkout) has nothing to check
        argv = [str(binary), "validate", *(f"--config=file:{bundle / c}" for c in configs)]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{' + '.join(configs)}: {error}"
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            return f"{' + '.join(configs)}: {lines[-1] if lines else f'exit {result.returncode}'}"
    return None


def _download(
    release: releases.Release,
    target: Path,
    layers: tuple[tuple[str, ...], ...],
    report: Reporter,
) -> Optional[Path]:
    """The verified release binary at ``target``, or None to fall back to building."""
    report(f"downloading {release.archive_url} ...")
    try:
        checksums = releases.install(release, target)
    except releases.ReleaseUnavailable as error:
        report(f"{error}; building from Go modules instead")
        return None
    except releases.ChecksumMismatch as error:
        raise BuildError(f"{error}. Use a trusted mirror, or build with --from-source.") from error
    problem = _validates(target, layers)
    if problem is not None:
        target.unlink()
        report(f"{release.archive} cannot run the bundled config ({problem}); building instead")
        return None
    report(f"installed {target} ({release.name} {release.version}, SHA-256 verified: {checksums})")
    return target


def ensure_collector(
    cache: Optional[Path] = None, report: Reporter = _quiet, download: bool = True
) -> Path:
    """The cached collector; else the verified official release; else an OCB build."""
    cache = cache or cache_dir()
    release, built = collector_release_path(cache), collector_binary_path(cache)
    for cached in (release, built):
        if cached.exists():
            return cached
    platform_tags = releases.host_platform()
    if download and platform_tags is not None:
        version = collector_version(manifest_path())
        found = _download(
            releases.collector_release(version, *platform_tags), release, _COLLECTOR_CONFIGS, report
        )
        if found is not None:
            return found
    return build_collector(cache, report)


def ensure_jaeger(
    cache: Optional[Path] = None, report: Reporter = _quiet, download: bool = True
) -> Path:
    """The cached Jaeger; else the verified official release (with its UI); else a Go build."""
    cache = cache or cache_dir()
    release, built = jaeger_release_path(cache), jaeger_binary_path(cache)
    for cached in (release, built):
        if cached.exists():
            return cached
    platform_tags = releases.host_platform()
    if download and platform_tags is not None:
        found = _download(
            releases.jaeger_release(JAEGER_RELEASE, *platform_tags, tag=JAEGER_VERSION),
            release,
            _JAEGER_CONFIGS,
            report,
        )
        if found is not None:
            return found
    return build_jaeger(cache, report)


def ensure_binaries(report: Reporter = _quiet, download: bool = True) -> Binaries:
    """Find, download or build everything, one at a time (builds are CPU- and memory-heavy)."""
    collector = ensure_collector(report=report, download=download)
    jaeger = ensure_jaeger(report=report, download=download)
    prometheus, promtool = ensure_prometheus(report=report)
    return Binaries(collector, jaeger, prometheus, promtool)


def _cached(*candidates: Path) -> Path:
    """The first candidate that exists, else the last (the one a build would write)."""
    return next((c for c in candidates if c.exists()), candidates[-1])


def find_binaries() -> tuple[Optional[Binaries], list[str]]:
    """The cached binaries (a release before a build), fetching nothing, or what is missing."""
    collector = _cached(collector_release_path(), collector_binary_path())
    jaeger = _cached(jaeger_release_path(), jaeger_binary_path())
    prometheus, promtool = find_prometheus()
    missing = [str(p) for p in (collector, jaeger) if not p.exists()]
    missing += [
        name for name, p in (("prometheus", prometheus), ("promtool", promtool)) if p is None
    ]
    if missing or prometheus is None or promtool is None:
        return None, missing
    return Binaries(collector, jaeger, prometheus, promtool), []
