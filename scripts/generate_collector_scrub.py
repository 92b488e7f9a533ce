#!/usr/bin/env python3
"""Generate the collector's secret-scrubbing processor from the package's redaction list.

The package's ``SECRET_PARAMS`` is the one list of secret parameter names. Every collector
config under ``collector/`` that scrubs carries a marker block::

    # BEGIN GENERATED secret-scrub (scripts/generate_collector_scrub.py; edit SECRET_PARAMS)
    ...
    # END GENERATED secret-scrub

and this script rewrites what lies between the markers: a ``transform/scrub_secrets``
processor whose statements all use ONE regex built from that list. ``--check`` changes
nothing and exits 1 when a file differs from what would be generated (the tests run it).

The regex (RE2, so no look-behind or look-ahead) finds a secret name right after a delimiter,
then one of two forms, and replaces the value with ``REDACTED``, keeping the name visible:

- assigned: ``=`` (query string, form body, logfmt) or a quoted key's ``": "`` (JSON, also
  escaped as when an exception quotes raw bytes, or single-quoted as in a Python ``repr``),
  then any value up to the next delimiter::

    ?access_token=abc&x=1            -> ?access_token=REDACTED&x=1
    {"corpsecret": "abc"}            -> {"corpsecret": "REDACTED"}
    {\\"corpsecret\\": \\"abc\\"}        -> {\\"corpsecret\\": \\"REDACTED\\"}
    {'corpsecret': 'abc'}            -> {'corpsecret': 'REDACTED'}
    access_token="abc"               -> access_token="REDACTED"

- logged: a bare ``name: `` (log lines, YAML), or the name and words of the same clause then
  ``:`` or ``=`` (an errmsg), then a value shaped like a credential (16 or more token
  characters, so ``code: 404``, ``token: expired`` or ``from ip: 203.0.113.7`` stay)::

    access_token: 0123456789abcdefgh -> access_token: REDACTED
    access_token is invalid or not latest: 0123456789abcdefgh
                                     -> access_token is invalid or not latest: REDACTED

The leading delimiter class is what keeps it cheap: Go's regexp tries the pattern at every
position, and a position that is not a delimiter fails on the first instruction (see
docs/benchmarks.md, collector throughput). Free-text fields (span and event names, status
messages) are only scanned when they contain ``=`` or ``:``, which every match needs.

Run from anywhere: ``python scripts/generate_collector_scrub.py [--check]``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from opentelemetry.instrumentation.wecom._redaction import REDACTED, SECRET_PARAMS, TOKEN_VALUE

ROOT = Path(__file__).resolve().parent.parent
COLLECTOR = ROOT / "collector"
BEGIN = "# BEGIN GENERATED secret-scrub"
END = "# END GENERATED secret-scrub"
BEGIN_LINE = f"{BEGIN} (scripts/generate_collector_scrub.py; edit SECRET_PARAMS, not this block)"

# What may stand right before a secret name: the start of the text, a query/fragment/form
# separator, whitespace, a quote or an opening bracket.
_LEAD = r"""(?:^|[?&;#,\s\x22\x27{(\[])"""
# What joins an assigned value to its name: `=` (maybe spaced, then maybe a quote), or the
# closing quote of a quoted key, a colon and the opening quote of its value; quotes may be
# backslash-escaped.
_JOINT = r"""(?:\s*=\s*\\*[\x22\x27]?|\\*[\x22\x27]\s*:\s*\\*[\x22\x27])"""
# An assigned value: up to a parameter or fragment separator, whitespace or a quote. A
# backslash belongs to it unless it escapes a quote (or a backslash).
_VALUE = r"""(?:[^&#\s\x22\x27\\]|\\[^\x22\x27\\])*"""
# What joins a logged value to its name: maybe words of the same clause (no punctuation
# between, as in the package's own scrub), then `:` or `=`, maybe a quote.
_LOGGED = r"""(?:\s+[A-Za-z][A-Za-z ]{0,48}?)?\s*[=:]\s*[\x22\x27]?"""
# Every match needs one of these characters (the `=` or a colon).
_NEEDLES = ("=", ":")


def secret_pattern(names: Iterable[str] = SECRET_PARAMS) -> str:
    """The RE2 pattern. What stays is group 1 (delimiter and name), then group 2 (an assigned
    value's joint) or group 3 (a logged value's), the other one empty: the replacement is
    ``${1}${2}${3}REDACTED``. The names appear once, which keeps the program small."""
    alternatives = "|".join(sorted({re.escape(name) for name in names}, key=lambda n: (-len(n), n)))
    return (
        rf"(?i)({_LEAD}(?:{alternatives}))"
        rf"(?:({_JOINT}){_VALUE}|({_LOGGED}){TOKEN_VALUE})"
    )


def _ottl_string(text: str) -> str:
    """An OTTL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_single_quoted(text: str) -> str:
    """A YAML single-quoted scalar whose value the collector reads back as ``text``.

    ``$`` is doubled: the collector's config resolver would expand ``${...}`` otherwise.
    """
    return "'" + text.replace("'", "''").replace("$", "$$") + "'"


def statements(pattern: str) -> dict[str, list[tuple[str, list[str]]]]:
    """The transform statements per signal and OTTL context, each using ``pattern``."""
    regex = _ottl_string(pattern)
    replacement = _ottl_string("${1}${2}${3}" + REDACTED)

    def in_map(path: str) -> str:
        return f'replace_all_patterns({path}, "value", {regex}, {replacement})'

    def in_text(path: str, guard: str = "") -> str:
        return f"replace_pattern({path}, {regex}, {replacement}){guard}"

    def needles(path: str) -> str:
        return " where " + " or ".join(f'Index({path}, "{n}") >= 0' for n in _NEEDLES)

    resource = ("resource", [in_map("resource.attributes")])
    return {
        "trace_statements": [
            resource,
            (
                "span",
                [
                    in_map("span.attributes"),
                    in_text("span.name", needles("span.name")),
                    in_text("span.status.message", ' where span.status.message != ""'),
                ],
            ),
            (
                "spanevent",
                [
                    in_map("spanevent.attributes"),
                    in_text("spanevent.name", needles("spanevent.name")),
                ],
            ),
        ],
        "metric_statements": [resource, ("datapoint", [in_map("datapoint.attributes")])],
        "log_statements": [
            resource,
            (
                "log",
                [
                    in_map("log.attributes"),
                    in_text("log.body", " where IsString(log.body)"),
                ],
            ),
        ],
    }


def render_block(indent: str, names: Iterable[str] = SECRET_PARAMS) -> list[str]:
    """The lines between the markers (without them), indented by ``indent``."""
    names = sorted(names)
    lines = [
        "# Removes the values of the package's secret parameters, keeping the names visible:",
        *_wrapped("# ", " ".join(names), width=96),
        "transform/scrub_secrets:",
        "  error_mode: ignore",
    ]
    for signal, groups in statements(secret_pattern(names)).items():
        lines.append(f"  {signal}:")
        for context, items in groups:
            lines.append(f"    - context: {context}")
            lines.append("      statements:")
            lines.extend(f"        - {_yaml_single_quoted(item)}" for item in items)
    return [f"{indent}{line}" for line in lines]


def _wrapped(prefix: str, text: str, width: int) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if line and len(prefix) + len(line) + 1 + len(word) > width:
            out.append(prefix + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*out, prefix + line] if line else out


def regenerate(text: str, names: Iterable[str] = SECRET_PARAMS) -> str:
    """``text`` with every marker block replaced by the generated one."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.strip().startswith(BEGIN):
            indent = line[: len(line) - len(line.lstrip())]
            end = next(
                (i for i in range(index + 1, len(lines)) if lines[i].strip().startswith(END)),
                None,
            )
            if end is None:
                raise ValueError(f"line {index + 1}: {BEGIN!r} without {END!r}")
            out.append(indent + BEGIN_LINE)
            out.extend(render_block(indent, names))
            out.append(indent + END)
            index = end + 1
            continue
        out.append(line)
        index += 1
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def marked_files(root: Path = COLLECTOR) -> list[Path]:
    """Every YAML file under ``root`` that carries the marker block."""
    found = [*root.rglob("*.yaml"), *root.rglob("*.yml")]
    return sorted(p for p in found if BEGIN in p.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    parser.add_argument("--root", type=Path, default=COLLECTOR, help="folder to scan")
    args = parser.parse_args(argv)
    files = marked_files(args.root)
    if not files:
        print(f"no file under {args.root} carries {BEGIN!r}", file=sys.stderr)
        return 1
    stale = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        generated = regenerate(text)
        if generated == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(generated, encoding="utf-8")
    for path in stale:
        verb = "differs from the generated block" if args.check else "regenerated"
        print(f"{path}: {verb}", file=sys.stderr)
    if args.check and stale:
        print("run: python scripts/generate_collector_scrub.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
