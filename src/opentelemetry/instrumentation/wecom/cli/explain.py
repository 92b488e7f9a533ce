"""``wecom-otel explain CODE [CODE ...] [--json]``: what a WeCom errcode means.

Prints a card per code for a person, or one JSON object per line (``--json``) for a
script. Exits 0 when every code is in the official table, 1 otherwise (the default
record is still printed, so a pipeline gets an answer for every code).
"""

from __future__ import annotations

import argparse
import json
import sys

from opentelemetry.instrumentation.wecom.errcodes import OK_CATEGORY, ErrcodeInfo, explain

_LABEL_WIDTH = 12


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain WeCom errcodes: meaning, category, retry advice, remediation",
        description=(
            "Look up WeCom global errcodes in the bundled official table (1,251 codes). "
            "Exit status 1 if any code is not in the table."
        ),
    )
    parser.add_argument("codes", nargs="+", metavar="CODE", help="errcode, e.g. 60020 or -1")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per code and line instead of a card",
    )
    parser.set_defaults(func=run)


def retry_advice(info: ErrcodeInfo) -> str:
    """One line saying whether and how a retry can help."""
    if info.category == OK_CATEGORY:
        return "n/a: the call succeeded"
    if not info.retryable:
        return "no: a retry gets the same error; fix the cause first"
    if info.category == "auth":
        return "yes: once, after refreshing the token"
    if info.category == "rate_limit":
        return "yes: after backing off until the limit window has passed"
    return "yes: with exponential backoff, at most 3 tries"


def render_card(info: ErrcodeInfo, raw: str) -> str:
    """The human-readable card for one code."""
    if not info.known:
        title = f"{raw}  (not in the official errcode table)"
    else:
        title = f"{info.code}  {info.title_zh}"
    rows = [
        ("meaning", info.meaning),
        ("category", info.category),
        ("retry", retry_advice(info)),
        ("hint (zh)", info.hint_zh),
        ("remediation", info.remediation),
        ("reference", info.query_url),
    ]
    lines = [title]
    lines += [f"  {label:<{_LABEL_WIDTH}} {value}" for label, value in rows if value]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    unknown: list[str] = []
    cards: list[str] = []
    for raw in args.codes:
        info = explain(raw)
        if not info.known:
            unknown.append(raw)
        if args.json:
            record = {"input": raw, **info.to_dict()}
            out.write(json.dumps(record, ensure_ascii=True) + "\n")
        else:
            cards.append(render_card(info, raw))
    if cards:
        out.write("\n\n".join(cards) + "\n")
    if unknown:
        print(
            f"wecom-otel explain: not in the official WeCom errcode table: {', '.join(unknown)}",
            file=sys.stderr,
        )
        return 1
    return 0
