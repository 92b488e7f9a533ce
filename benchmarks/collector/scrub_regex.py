"""``python -m benchmarks.collector.scrub_regex [--config NAME=PATH ...] [--iterations N]``.

The collector's scrub pattern alone, in Go's regexp (what OTTL runs): per attribute value,
the time of one ``replace_all_patterns`` step (match, then replace when it matches), for the
bundled config and each ``--config`` (an older one: ``git show REV:collector/otelcol-config.yaml``)
side by side, with the ratio to the bundled one. Builds a small Go program with ``go run``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Optional

import yaml

from benchmarks.collector.harness import URL
from opentelemetry.instrumentation.wecom.stack.build import find_go, go_env
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir

PROGRAM = Path(__file__).with_name("scrub_regex")
_STATEMENT = re.compile(r'^replace_all_patterns\(span\.attributes, "value", "(.*)", "([^"]*)"\)$')

#: Attribute values as spans carry them: the benchmark load's secret-bearing URL, and values
#: the scrub scans and leaves alone.
VALUES = {
    "url.full with a secret (the load's)": URL,
    "user agent, 204 chars": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 "
    )
    * 2,
    "JSON body, 323 chars": json.dumps(
        {"touser": "a|b|c", "msgtype": "text", "agentid": 1000002, "text": {"content": "ok " * 80}}
    ),
    "JSON body, 809 chars": json.dumps({"touser": "a|b|c", "text": {"content": "ok " * 255}}),
    "JSON body, 4,109 chars": json.dumps({"touser": "a|b|c", "text": {"content": "ok " * 1355}}),
    "span name": "GET /cgi-bin/user/get",
}


def pattern(config: Path) -> tuple[str, str]:
    """The scrub's pattern and replacement in ``config``, as the collector reads them."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    groups = document["processors"]["transform/scrub_secrets"]["trace_statements"]
    statement = next(g for g in groups if g["context"] == "span")["statements"][0]
    found = _STATEMENT.match(statement)
    if found is None:
        raise ValueError(f"{config}: no span attribute scrub statement")
    unquoted = found.group(1).encode().decode("unicode_escape")  # OTTL string escapes
    return unquoted, found.group(2).replace("$$", "$")  # $$ is the config's own escape


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--iterations", type=int, default=200_000)
    args = parser.parse_args(argv)
    configs = {"bundled": bundle_dir() / "otelcol-config.yaml"}
    for item in args.config:
        name, _, path = item.partition("=")
        configs[name] = Path(path)
    request = {
        "patterns": {name: pattern(path) for name, path in configs.items()},
        "values": list(VALUES.values()),
        "iterations": args.iterations,
    }
    done = subprocess.run(
        [find_go(), "run", "."],
        cwd=PROGRAM,
        env=go_env(),
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    results = json.loads(done.stdout)
    names = list(configs)
    print(" | ".join(["value", *(f"{n} ns" for n in names), *(f"{n}/bundled" for n in names[1:])]))
    for index, label in enumerate(VALUES):
        times = [results[name]["nanoseconds"][index] for name in names]
        ratios = [f"{t / times[0]:.2f}" for t in times[1:]]
        print(" | ".join([label, *(f"{t:,.0f}" for t in times), *ratios]))
    for name in names:
        print(f"{name}: {results[name]['instructions']} instructions")
        print(f"  scrubs the URL to {results[name]['scrubbed'][0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
