"""Drives the planned traffic through both clients, paced in time, with a progress line.

Each step is one business operation under its own parent span (``demo notify_users`` ...), so a
42001 → gettoken → retry sequence lands in one trace. Business errors are expected: they are what
the demo shows, and they are read back from the telemetry, not from here.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TextIO

from opentelemetry.trace import Tracer

from opentelemetry.instrumentation.wecom.demo.clients import HttpxWeComClient, WeComError
from opentelemetry.instrumentation.wecom.demo.scenario import Step
from opentelemetry.instrumentation.wecom.testing import MockWeComServer

WORKERS = 8
# Recipients a message goes to; the ones after the first three are not (or no longer) reachable.
_TEAM = ("zhangsan", "lisi", "wangwu")
_GONE = ("former_employee", "qianba")  # qianba exists but has no interface licence
ONCALL = "wangwu"
PAGES = 36  # WeCom delivers 30 a minute from one app to one member; the rest are discarded
_REPORT = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@dataclass
class Clients:
    httpx: HttpxWeComClient
    wechatpy: Any
    mock: MockWeComServer


def _notify_users(c: Clients, rng: random.Random) -> None:
    users = list(_TEAM[: rng.randint(1, 3)])
    if rng.random() < 0.35:
        users.append(rng.choice(_GONE))
    body = {
        "touser": "|".join(users),
        "msgtype": "text",
        "agentid": c.mock.agent_id,
        "text": {"content": "Deployment 42 finished"},
    }
    c.httpx.call("POST", "message/send", json=body)


def _notify_team(c: Clients, rng: random.Random) -> None:
    c.wechatpy.message.send_text(c.mock.agent_id, list(_TEAM), "Daily report is ready")


def _lookup_user(c: Clients, rng: random.Random) -> None:
    c.wechatpy.user.get("nobody" if rng.random() < 0.1 else rng.choice(_TEAM))


def _list_team(c: Clients, rng: random.Random) -> None:
    c.wechatpy.user.list(department_id=1)


def _list_departments(c: Clients, rng: random.Random) -> None:
    c.wechatpy.department.get()


def _upload_report(c: Clients, rng: random.Random) -> None:
    files = {"media": ("report.png", _REPORT, "image/png")}
    c.httpx.call("POST", "media/upload", params={"type": "image"}, files=files)


def _alert_robot(c: Clients, rng: random.Random) -> None:
    text = {"content": "ALERT: error ratio of message/send above 5%"}
    c.httpx.webhook(c.mock.webhook_url, {"msgtype": "text", "text": text})


def _page_oncall(c: Clients, rng: random.Random) -> None:
    """A monitoring loop gone wrong: one member paged again and again within seconds."""
    body = {
        "touser": ONCALL,
        "msgtype": "text",
        "agentid": c.mock.agent_id,
        "text": {"content": "ALERT: disk usage above 90% on db-1"},
    }
    for _ in range(PAGES):
        with contextlib.suppress(WeComError):  # the loop pages on, whatever one send got
            c.httpx.call("POST", "message/send", json=body)


ACTIONS: dict[str, Callable[[Clients, random.Random], None]] = {
    "notify_users": _notify_users,
    "notify_team": _notify_team,
    "lookup_user": _lookup_user,
    "list_team": _list_team,
    "list_departments": _list_departments,
    "upload_report": _upload_report,
    "alert_robot": _alert_robot,
    "page_oncall": _page_oncall,
}


class Progress:
    """A plain-text progress line: rewritten in place on a terminal, every 20% otherwise."""

    def __init__(self, total: int, out: TextIO, failures: Callable[[], int]) -> None:
        self._total = total
        self._out = out
        self._failures = failures
        self._tty = out.isatty()
        self._started = time.monotonic()
        self._shown = -1

    def update(self, done: int) -> None:
        percent = 100 * done // max(1, self._total)
        step = 1 if self._tty else 20
        if percent // step == self._shown // step and done != self._total:
            return
        self._shown = percent
        bar = "#" * (percent // 5) + "." * (20 - percent // 5)
        line = (
            f"  [{bar}] {done:>4}/{self._total} operations · "
            f"{self._failures():>3} failed WeCom calls · {time.monotonic() - self._started:4.1f} s"
        )
        end = "\r" if self._tty and done != self._total else "\n"
        self._out.write(line + end)
        self._out.flush()


def drive(
    steps: list[Step], clients: Clients, tracer: Tracer, seed: int, progress: Progress
) -> None:
    """Run every step at its time (on a worker pool, so a slow call does not hold up the rest)."""
    rng = random.Random(seed)
    seeds = [rng.randrange(2**32) for _ in steps]

    def run(step: Step, step_seed: int) -> None:
        # WeCom errors are the point of the demo: they end up in the spans, not here.
        with contextlib.suppress(Exception), tracer.start_as_current_span(f"demo {step.action}"):
            ACTIONS[step.action](clients, random.Random(step_seed))

    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="demo") as pool:
        futures = []
        for step, step_seed in zip(steps, seeds):
            delay = started + step.at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(run, step, step_seed))
            progress.update(sum(f.done() for f in futures))
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.25)
            progress.update(len(futures) - len(pending))
