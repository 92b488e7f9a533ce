"""Run-time state of the fault rules: call ordinals, sequence positions, the seeded RNG."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from .scenario import Fault, Outcome


@dataclass
class Decision:
    """What the rules decided for one call: total added latency and the terminal outcome."""

    latency: float = 0.0
    outcome: Outcome | None = None
    labels: list[str] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        return ";".join(self.labels) or None


@dataclass
class _Rule:
    id: int
    fault: Fault
    fired: int = 0
    position: int = 0


class FaultEngine:
    """Evaluates fault rules in order for each call.

    Latency-only outcomes add up and evaluation goes on; the first rule that fires with a
    terminal outcome (errcode, http_status, reset, hang) decides and stops evaluation.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._ordinals: dict[str, int] = {}
        self._next_id = 1
        self.rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self.rng.seed(seed)

    def add(self, fault: Fault) -> int:
        with self._lock:
            rule = _Rule(self._next_id, fault)
            self._next_id += 1
            self._rules.append(rule)
            return rule.id

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reset_counters(self) -> None:
        with self._lock:
            self._ordinals.clear()
            for rule in self._rules:
                rule.fired = 0
                rule.position = 0

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"id": r.id, "fired": r.fired, **r.fault.to_dict()} for r in self._rules]

    def decide(self, api: str, elapsed: float) -> Decision:
        """Pick the outcome for the next call to ``api``, ``elapsed`` s after the start."""
        decision = Decision()
        with self._lock:
            ordinal = self._ordinals.get(api, 0) + 1
            self._ordinals[api] = ordinal
            for rule in self._rules:
                outcome = self._fire(rule, api, ordinal, elapsed)
                if outcome is None:
                    continue
                if outcome != Outcome():
                    decision.labels.append(rule.fault.name or outcome.describe())
                if outcome.latency is not None:
                    decision.latency += outcome.latency.sample(self.rng)
                if outcome.terminal:
                    decision.outcome = outcome
                    break
        return decision

    def _fire(self, rule: _Rule, api: str, ordinal: int, elapsed: float) -> Outcome | None:
        fault = rule.fault
        if not _selects(fault, api, ordinal, elapsed):
            return None
        if fault.times is not None and rule.fired >= fault.times:
            return None
        if fault.probability < 1.0 and self.rng.random() >= fault.probability:
            return None
        if fault.sequence:
            if rule.position >= len(fault.sequence):
                if not fault.repeat:
                    return None
                rule.position = 0
            outcome = fault.sequence[rule.position]
            rule.position += 1
        else:
            outcome = fault.outcome
        rule.fired += 1
        return outcome


def _selects(fault: Fault, api: str, ordinal: int, elapsed: float) -> bool:
    """The deterministic part of a rule's selection: API, call ordinal and time window."""
    return (
        fnmatchcase(api, fault.api)
        and (not fault.calls or ordinal in fault.calls)
        and (fault.after is None or elapsed >= fault.after)
        and (fault.until is None or elapsed < fault.until)
    )
