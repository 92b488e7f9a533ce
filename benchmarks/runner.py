"""The whole benchmark: server up, every section in turn, server down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Optional

from benchmarks import callbacks, machine
from benchmarks.configurations import (
    ALL,
    BARE,
    WECOM,
    WECOM_WITHOUT_CHAINS,
    Configuration,
    Switch,
)
from benchmarks.measure import Samples, interleaved
from benchmarks.memory import Checkpoint, SeriesCount, junk_path_series, memory_checkpoints
from benchmarks.profiling import Profile, compare
from benchmarks.sdk import Sdk
from benchmarks.server import MEDIA_SIZE, ServerProcess, json_body, media_body
from benchmarks.workloads import TOKEN as _TOKEN
from benchmarks.workloads import (
    AiohttpWorkload,
    AsyncHttpxWorkload,
    HttpxWorkload,
    RequestsWorkload,
    Workload,
    canned_transport,
    message_send_target,
    message_to,
)

MIB = 1024 * 1024
IN_MEMORY = "in-memory transport"
_JSON = "application/json; charset=UTF-8"


@dataclass(frozen=True)
class Plan:
    """How much of everything to run. ``quick()`` is a smoke run: it proves, it does not measure."""

    quick: bool = False
    rounds: int = 30
    calls: int = 400
    warmup: int = 20
    async_rounds: int = 12
    in_flight: int = 1000
    body_rounds: int = 40
    large_body_calls: int = 3
    memory_checkpoints: tuple[int, ...] = (10_000, 25_000, 50_000, 75_000, 100_000)
    junk_paths: int = 10_000
    max_apis: int = 100
    profile_calls: int = 5_000

    @classmethod
    def smoke(cls) -> Plan:
        return cls(
            quick=True,
            rounds=2,
            calls=20,
            warmup=3,
            async_rounds=2,
            in_flight=50,
            body_rounds=2,
            large_body_calls=2,
            memory_checkpoints=(500, 2_000),
            junk_paths=300,
            profile_calls=200,
        )


@dataclass(frozen=True)
class Matrix:
    """One interleaved comparison: a workload under several configurations."""

    title: str
    library: str
    calls: int
    rounds: int
    samples: dict[str, Samples]


@dataclass
class Results:
    plan: Plan
    machine: dict[str, str]
    matrices: list[Matrix] = field(default_factory=list)
    in_flight: Optional[Matrix] = None
    bodies: list[Matrix] = field(default_factory=list)
    callbacks: list[Matrix] = field(default_factory=list)
    chains: list[Matrix] = field(default_factory=list)
    memory: list[Checkpoint] = field(default_factory=list)
    series: Optional[SeriesCount] = None
    profiles: dict[str, tuple[Profile, Profile]] = field(default_factory=dict)
    seconds: float = 0.0


Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Bench:
    """What every section shares: the server port, the SDK, the configuration switch."""

    port: int
    sdk: Sdk
    switch: Switch
    warmup: int

    def matrix(
        self, workload: Workload, configs: tuple[Configuration, ...], *, rounds: int, calls: int
    ) -> Matrix:
        with _closing(workload):
            samples = interleaved(
                workload,
                configs,
                self.switch,
                self.sdk,
                rounds=rounds,
                calls=calls,
                warmup=min(self.warmup, calls),
            )
        return Matrix(workload.name, workload.library, calls, rounds, samples)

    def message_send(self, name: str) -> HttpxWorkload:
        return HttpxWorkload(name, self.port, message_send_target(), post=True, parse=True)


def run(plan: Plan, progress: Progress = lambda message: None) -> Results:
    started = time.perf_counter()
    load_at_start = machine.load_average()
    results = Results(plan, machine.describe())
    sdk = Sdk()
    try:
        with ServerProcess() as server:
            bench = _Bench(server.port, sdk, Switch(sdk, server.port), plan.warmup)
            _measure(bench, plan, results, progress)
    finally:
        sdk.shutdown()
    results.seconds = time.perf_counter() - started
    results.machine["load average at start"] = load_at_start
    results.machine["load average at end"] = machine.load_average()
    return results


def _measure(bench: _Bench, plan: Plan, results: Results, progress: Progress) -> None:
    progress("httpx, requests and aiohttp, configurations (a)-(d)")
    clients: tuple[Workload, ...] = (
        bench.message_send("httpx"),
        RequestsWorkload("requests", bench.port),
        AiohttpWorkload("aiohttp", bench.port),
    )
    for workload in clients:
        results.matrices.append(bench.matrix(workload, ALL, rounds=plan.rounds, calls=plan.calls))
    progress(f"async httpx, {plan.in_flight} calls in flight")
    results.in_flight = bench.matrix(
        AsyncHttpxWorkload(f"async httpx x{plan.in_flight}", bench.port, plan.in_flight),
        (BARE, WECOM),
        rounds=plan.async_rounds,
        calls=plan.in_flight,
    )
    progress("response bodies: 100 B, 1 MB, 10 MB JSON, 10 MB media, errcode, in memory")
    for body_workload, calls in _body_workloads(bench.port, plan):
        results.bodies.append(
            bench.matrix(body_workload, (BARE, WECOM), rounds=plan.body_rounds, calls=calls)
        )
    progress("callback middleware, in-process WSGI and ASGI")
    for callback_workload, configs in callbacks.workloads(bench.sdk):
        with _closing(callback_workload):
            samples = interleaved(
                callback_workload,
                configs,
                callbacks.AppSwitch(callback_workload),
                bench.sdk,
                rounds=plan.rounds,
                calls=plan.calls,
                warmup=min(plan.warmup, plan.calls),
            )
        results.callbacks.append(
            Matrix(
                callback_workload.name, callback_workload.library, plan.calls, plan.rounds, samples
            )
        )
    progress("retry chains and member windows: (a), (c), (e)")
    for chain_workload, calls in _chain_workloads(bench.port, plan):
        results.chains.append(
            bench.matrix(
                chain_workload, (BARE, WECOM, WECOM_WITHOUT_CHAINS), rounds=plan.rounds, calls=calls
            )
        )
    progress(f"memory over {plan.memory_checkpoints[-1]:,} calls")
    with _closing(bench.message_send("memory")) as memory_workload:
        results.memory = memory_checkpoints(
            memory_workload, bench.switch, bench.sdk, plan.memory_checkpoints
        )
    progress(f"metric series after {plan.junk_paths:,} junk paths")
    results.series = junk_path_series(bench.port, bench.switch, plan.junk_paths, plan.max_apis)
    progress("cProfile of (a) and (c)")
    clients = (bench.message_send("httpx"), RequestsWorkload("requests", bench.port))
    for workload in clients:
        with _closing(workload):
            results.profiles[workload.library] = compare(
                workload, bench.switch, bench.sdk, plan.profile_calls
            )


def _body_workloads(port: int, plan: Plan) -> Iterator[tuple[Workload, int]]:
    """GETs of user/list bodies of each size, the media download and an errcode body from
    the server, then the 100 B and 10 MB bodies again from an in-memory transport."""
    user_list = f"/cgi-bin/user/list?access_token={_TOKEN}&department_id=1"
    media = f"/cgi-bin/media/get?access_token={_TOKEN}&media_id=M1"
    large = plan.large_body_calls
    for name, target, calls in (
        ("JSON 100 B", f"{user_list}&size=100", plan.calls),
        ("JSON 1 MB", f"{user_list}&size={MIB}", large * 4),
        ("JSON 10 MB", f"{user_list}&size={10 * MIB}", large),
        (f"media {MEDIA_SIZE // MIB} MB binary", media, large),
        ("JSON errcode 60011", f"{user_list}&errcode=60011", plan.calls),
    ):
        yield HttpxWorkload(name, port, target, post=False, parse=False), calls
    for name, target, body, content_type in (
        ("JSON 100 B", user_list, json_body("/cgi-bin/user/list", 100), _JSON),
        ("JSON 10 MB", user_list, json_body("/cgi-bin/user/list", 10 * MIB), _JSON),
        (f"media {MEDIA_SIZE // MIB} MB binary", media, media_body(), "image/jpeg"),
    ):
        transport = canned_transport(body, content_type)
        workload = HttpxWorkload(
            f"{name}, {IN_MEMORY}", port, target, post=False, parse=False, transport=transport
        )
        yield workload, plan.calls


@contextmanager
def _closing(workload: Workload) -> Iterator[Workload]:
    try:
        yield workload
    finally:
        workload.close()


def _chain_workloads(port: int, plan: Plan) -> Iterator[tuple[Workload, int]]:
    """What the retry chains and the member windows work on: a healthy call that sends no
    message, a send to 2 members (over the 30-a-minute limit after the first 30 calls of a
    round, so those calls also count discards), a send to 1,000 members, and a failed call
    resent again and again (each call repeats the last)."""
    healthy = f"/cgi-bin/user/get?access_token={_TOKEN}&userid=lisi"
    yield HttpxWorkload("user/get ok", port, healthy, post=False, parse=True), plan.calls
    send = message_send_target()
    yield HttpxWorkload("message/send to 2 members", port, send, post=True, parse=True), plan.calls
    yield (
        HttpxWorkload(
            "message/send to 1,000 members",
            port,
            send,
            post=True,
            parse=True,
            body=message_to(1000),
        ),
        max(plan.calls // 10, 2),
    )
    failing = f"/cgi-bin/user/get?access_token={_TOKEN}&userid=lisi&errcode=42001"
    yield (
        HttpxWorkload("user/get 42001, resent", port, failing, post=False, parse=True),
        plan.calls,
    )
