"""``python -m benchmarks [--quick] [--rounds N] ... [--json PATH] [--markdown PATH]``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Optional

from benchmarks.measure import SpanCountError
from benchmarks.report import as_json, render
from benchmarks.runner import Plan, run


def _plan(args: argparse.Namespace) -> Plan:
    plan = Plan.smoke() if args.quick else Plan()
    overrides = {
        name: value
        for name, value in (
            ("rounds", args.rounds),
            ("calls", args.calls),
            ("in_flight", args.in_flight),
            ("junk_paths", args.junk_paths),
            ("profile_calls", args.profile_calls),
        )
        if value is not None
    }
    if args.memory_calls is not None:
        overrides["memory_checkpoints"] = _checkpoints(args.memory_calls)
    return dataclasses.replace(plan, **overrides)


def _checkpoints(total: int) -> tuple[int, ...]:
    """A warm-up tenth, then quarters: 10k, 25k, 50k, 75k, 100k for 100,000 calls."""
    points = [max(total // 10, 1), total // 4, total // 2, total * 3 // 4, total]
    return tuple(sorted({point for point in points if point > 0}))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure the overhead of WeComInstrumentor."
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: a few calls, no timing claims"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds of the (a)-(d) tables")
    parser.add_argument("--calls", type=int, help="calls per round for small bodies")
    parser.add_argument("--in-flight", type=int, help="concurrent async calls per round")
    parser.add_argument("--memory-calls", type=int, help="calls of the memory run")
    parser.add_argument("--junk-paths", type=int, help="distinct unknown paths for the series cap")
    parser.add_argument("--profile-calls", type=int, help="calls profiled per configuration")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report to a file")
    args = parser.parse_args(argv)

    plan = _plan(args)
    try:
        results = run(
            plan, progress=lambda message: print(f"... {message}", file=sys.stderr, flush=True)
        )
    except SpanCountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = render(results)
    print(report)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as output:
            output.write(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as output:
            json.dump(as_json(results), output, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
