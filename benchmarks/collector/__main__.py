"""``python -m benchmarks.collector [--rounds N] [--seconds S] [--rates R,R,...] [--json PATH]``.

``--config NAME=PATH`` (repeatable) adds a configuration to the same rounds, for a comparison
side by side: an older bundled config (``git show REV:collector/otelcol-config.yaml``) or a
variant. Every configuration's ratio is taken to the pass-through of the same round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

from benchmarks.collector.harness import CONFIGS, Collector, Step, measure_step, telemetrygen
from opentelemetry.instrumentation.wecom.stack.build import find_binaries

DEFAULT_RATES = (4_000, 8_000, 12_000, 16_000, 20_000, 25_000, 30_000, 36_000, 43_000, 50_000)


def sweep(
    binary: Path,
    generator: Path,
    config: str,
    path: Path,
    *,
    rates: list[int],
    seconds: float,
    settle: float,
) -> list[Step]:
    """Raise the offered rate until a step is not sustained; every step, in order."""
    steps: list[Step] = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{config}-") as work:  # noqa: SIM117 - py3.9
        with Collector(binary, config, Path(work), path).running() as collector:
            for rate in rates:
                step = measure_step(collector, generator, rate, seconds, settle)
                steps.append(step)
                print(
                    f"  {config:11.11} target {rate:>6}/s offered {step.offered:>7.0f}/s "
                    f"accepted {step.accepted:>8.0f}/s "
                    f"refused {step.refused:.0f} failed {step.export_failed:.0f} "
                    f"cpu {step.cpu_per_kspan_ms:6.1f} ms/1k spans rss {step.rss_mib:5.0f} MiB "
                    f"{'ok' if step.sustained else 'NOT sustained'}",
                    flush=True,
                )
                if not step.sustained:
                    break
    return steps


def best(steps: list[Step]) -> Optional[Step]:
    sustained = [step for step in steps if step.sustained]
    return max(sustained, key=lambda step: step.accepted) if sustained else None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per step")
    parser.add_argument("--rates", default=",".join(map(str, DEFAULT_RATES)))
    parser.add_argument("--json", type=Path, help="write every step and the summary here")
    parser.add_argument(
        "--unthrottled",
        action="store_true",
        help="instead of the sweep, one step of 2 unthrottled workers (the issue's first method)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="another collector config to compare in the same rounds (repeatable)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds after each step before the counters are read (default 1; above the "
        "bundled decision_wait, 10 s, the CPU figure includes the work done after sampling)",
    )
    args = parser.parse_args(argv)
    configs = dict(CONFIGS)
    for item in args.config:
        name, _, path = item.partition("=")
        if not name or not path or name in configs:
            parser.error(f"--config {item}: give NAME=PATH with a new name")
        configs[name] = Path(path)
    binaries, missing = find_binaries()
    if binaries is None:
        print(f"missing {missing}: run `wecom-otel stack build` first", file=sys.stderr)
        return 2
    generator = telemetrygen()
    rates = [0] if args.unthrottled else [int(rate) for rate in args.rates.split(",")]
    print(
        f"collector {binaries.collector.name}, telemetrygen {generator.name}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    rounds: list[dict[str, Any]] = []
    compared = [name for name in configs if name != "passthrough"]
    for index in range(args.rounds):
        order = list(configs) if index % 2 == 0 else list(reversed(configs))
        print(f"round {index + 1}: {' then '.join(order)}")
        steps = {
            config: sweep(
                binaries.collector,
                generator,
                config,
                configs[config],
                rates=rates,
                seconds=args.seconds,
                settle=args.settle,
            )
            for config in order
        }
        top = {config: best(found) for config, found in steps.items()}
        limit = top["passthrough"]
        ratio, cpu_ratio = {}, {}
        for name in compared:
            found = top[name]
            ratio[name] = found.accepted / limit.accepted if found and limit else None
            # pass-through CPU per span / this config's, at each one's best sustained step
            cpu_ratio[name] = (
                limit.cpu_per_kspan_ms / found.cpu_per_kspan_ms if found and limit else None
            )
            print(
                f"round {index + 1}: {name} {_fmt(found)} / pass-through {_fmt(limit)} = "
                + (f"{ratio[name]:.2f}" if ratio[name] else "no sustained step")
            )
        rounds.append(
            {
                "steps": {c: [s.as_dict() for s in found] for c, found in steps.items()},
                "throughput": {c: (s.accepted if s else None) for c, s in top.items()},
                "rss_mib": {c: (s.rss_mib if s else None) for c, s in top.items()},
                "ratio": ratio,
                "cpu_efficiency_ratio": cpu_ratio,
            }
        )
    summary: dict[str, Any] = {"load_average": os.getloadavg()}
    for name in compared:
        ratios = [r["ratio"][name] for r in rounds if r["ratio"][name]]
        cpu_ratios = [
            r["cpu_efficiency_ratio"][name] for r in rounds if r["cpu_efficiency_ratio"][name]
        ]
        summary[name] = {
            "ratio_median": statistics.median(ratios) if ratios else None,
            "ratios": ratios,
            "cpu_ratio_median": statistics.median(cpu_ratios) if cpu_ratios else None,
            "cpu_ratios": cpu_ratios,
        }
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=1))
    return 0


def _fmt(step: Optional[Step]) -> str:
    return f"{step.accepted:,.0f} spans/s ({step.rss_mib:.0f} MiB)" if step else "-"


if __name__ == "__main__":
    sys.exit(main())
