"""The layers of docs/architecture.md point one way: an AST walk over every module's imports.

Imports inside functions and under ``TYPE_CHECKING`` count too: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "opentelemetry.instrumentation.wecom"
ROOT = Path(__file__).parents[1] / "src" / "opentelemetry" / "instrumentation" / "wecom"

# The parts, by module prefix under the package (the first match wins).
CORE = (
    "_api_names",
    "_attributes",
    "_body",
    "_call",
    "_containment",
    "_delivery",
    "_discards",
    "_encodable",
    "_exceptions",
    "_extensions",
    "_json",
    "_recipients",
    "_redaction",
    "_retries",
    "_settings",
    "_telemetry",
    "_url",
    "_verdict",
    "errcodes",
    "package",
    "version",
)
ADAPTERS = ("_transports",)
ENTRY_POINTS = (
    "_callbacks",
    "_decorator",
    "_enable",
    "_export_config",
    "_export_health",
    "_instrumentor",
    "_sdk_setup",
    "callbacks",
)
TOOLS = ("cli", "demo")
HTTP_CLIENTS = ("httpx", "requests", "aiohttp", "wechatpy", "urllib3")
# A public leaf module shared by the mock and the instrumentation: it imports nothing of either.
SHARED_LEAVES = ("crypto",)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from package import module` imports the module too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _part_of(name: str) -> str | None:
    """The package-relative name of an import of this package, or None for other modules."""
    if name == PACKAGE:
        return ""
    if name.startswith(PACKAGE + "."):
        return name[len(PACKAGE) + 1 :]
    return None


def _in(relative: str, prefixes: tuple[str, ...]) -> bool:
    return any(relative == p or relative.startswith(p + ".") for p in prefixes)


def _modules(prefixes: tuple[str, ...]) -> list[Path]:
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if _in(_module_name(path)[len(PACKAGE) + 1 :], prefixes)
    ]


def _violations(prefixes: tuple[str, ...], allowed: object) -> list[str]:
    """Imports of the modules under ``prefixes`` that ``allowed(relative_name)`` refuses."""
    modules = _modules(prefixes)
    assert modules, f"no module under {prefixes}: the check would pass on nothing"
    found = []
    for path in modules:
        for name in sorted(_imports(path)):
            relative = _part_of(name)
            if not allowed(name, relative):  # type: ignore[operator]
                found.append(f"{_module_name(path)} imports {name}")
    return found


def test_every_module_belongs_to_a_known_part() -> None:
    """A new top-level module must be placed in a layer here and in docs/architecture.md."""
    known = (*CORE, *ADAPTERS, *ENTRY_POINTS, *TOOLS, *SHARED_LEAVES)
    known += ("testing", "stack", "diagnosis", "_data", "_bundle")
    stray = [
        _module_name(path)
        for path in sorted(ROOT.rglob("*.py"))
        if path.parent != ROOT or path.name != "__init__.py"
        if not _in(_module_name(path)[len(PACKAGE) + 1 :], known)
    ]
    assert stray == []


def test_the_core_knows_no_http_client_and_nothing_above_it() -> None:
    def allowed(name: str, relative: str | None) -> bool:
        if relative is None:
            return name.split(".", maxsplit=1)[0] not in HTTP_CLIENTS
        return relative == "" or _in(relative, CORE)

    assert _violations(CORE, allowed) == []


def test_adapters_import_the_core_and_their_client_only() -> None:
    def allowed(name: str, relative: str | None) -> bool:
        return relative is None or _in(relative, (*CORE, *ADAPTERS))

    assert _violations(ADAPTERS, allowed) == []


def test_entry_points_import_no_tool_and_no_mock() -> None:
    def allowed(name: str, relative: str | None) -> bool:
        return (
            relative is None
            or relative == ""
            or _in(relative, (*CORE, *ADAPTERS, *ENTRY_POINTS, *SHARED_LEAVES))
        )

    assert _violations(ENTRY_POINTS, allowed) == []


@pytest.mark.parametrize("part", ["testing", "stack"])
def test_standalone_parts_import_nothing_of_the_instrumentation(part: str) -> None:
    def allowed(name: str, relative: str | None) -> bool:
        return relative is None or _in(relative, (part, *SHARED_LEAVES))

    assert _violations((part,), allowed) == []


def test_shared_leaves_import_nothing_of_the_package() -> None:
    assert _violations(SHARED_LEAVES, lambda name, relative: relative is None) == []


def test_diagnosis_reads_backends_not_the_live_instrumentation() -> None:
    def allowed(name: str, relative: str | None) -> bool:
        return relative is None or not _in(relative, (*ADAPTERS, *ENTRY_POINTS, *TOOLS, "testing"))

    assert _violations(("diagnosis",), allowed) == []


def test_nothing_but_the_command_line_imports_the_tools() -> None:
    def allowed(name: str, relative: str | None) -> bool:
        return relative is None or not _in(relative, TOOLS)

    everything_else = (*CORE, *ADAPTERS, *ENTRY_POINTS, "testing", "stack", "diagnosis")
    assert _violations(everything_else, allowed) == []


def test_importing_the_mock_loads_no_instrumentation() -> None:
    code = (
        "import sys\n"
        "from opentelemetry.instrumentation.wecom.testing import MockWeComServer, Scenario\n"
        "with MockWeComServer(): pass\n"
        f"print('\\n'.join(n for n in sys.modules if n.startswith('{PACKAGE}.')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    outside = [n for n in loaded if not _in(n[len(PACKAGE) + 1 :], ("testing", "version"))]
    assert outside == []
