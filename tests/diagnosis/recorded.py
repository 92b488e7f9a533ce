"""Recorded diagnoses: what Prometheus and Jaeger answered while ``diagnose()`` ran on the stack.

``record.py`` saves every request the diagnosis made to the real backends (path, parameters,
status, JSON answer) with the window and the clock it ran with; ``serve()`` answers them again
over loopback HTTP (``replay.replay_server``), so the unit tests run the real source and
engine code on the real backends' answers. A request that was not recorded gets a 599: after
changing a query, re-record with ``python -m tests.diagnosis.record``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests._support import closed_port
from tests.diagnosis.replay import Exchange, Replay, replay_server

RECORDINGS = Path(__file__).resolve().parent / "recordings" / "diagnose"


@dataclass(frozen=True)
class Recording:
    """One recorded diagnosis: its inputs (``meta``) and the backends' answers."""

    name: str
    meta: dict[str, Any]
    exchanges: list[dict[str, Any]]

    @classmethod
    def load(cls, name: str) -> Recording:
        document = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
        return cls(name, document["meta"], document["exchanges"])

    @property
    def service(self) -> str:
        return str(self.meta["service"])

    @property
    def start(self) -> float:
        return float(self.meta["start"])

    @property
    def end(self) -> float:
        return float(self.meta["end"])

    @property
    def now(self) -> float:
        return float(self.meta["now"])

    @property
    def lag(self) -> float:
        return float(self.meta["lag"])

    @property
    def jaeger_down(self) -> bool:
        return bool(self.meta.get("jaeger_down"))


def names() -> list[str]:
    return sorted(path.stem for path in RECORDINGS.glob("*.json"))


@contextmanager
def serve(recording: Recording) -> Iterator[Replay]:
    """A loopback server that answers every recorded request as the backend did."""
    with replay_server() as replay:
        for item in recording.exchanges:
            body = json.dumps(item["payload"]).encode()
            replay.route(
                item["path"], Exchange(item["status"], "application/json", body), **item["params"]
            )
        yield replay


def closed_port_url() -> str:
    """A loopback URL where nothing listens: a backend that is down."""
    return f"http://127.0.0.1:{closed_port()}"
