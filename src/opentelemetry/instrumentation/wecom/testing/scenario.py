"""Scenario model: fault rules, rate limits, token policy; from YAML/JSON files or built in code.

The file format is documented in ``docs/mock-server.md``. Parsing is strict: an unknown key or a
value of the wrong type raises :class:`ScenarioError` naming where it is (``faults[2].latency``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

LatencyKind = Literal["fixed", "uniform", "normal"]
_HTTP_STATUSES = range(200, 600)


class ScenarioError(ValueError):
    """A scenario file or mapping is malformed; the message says where and why."""


_LATENCY_KEYS = ("fixed", "uniform", "normal", "min", "max")
_OUTCOME_KEYS = (
    "errcode",
    "errmsg",
    "http_status",
    "body",
    "content_type",
    "reset",
    "hang",
    "latency",
)
_FAULT_KEYS = (
    *_OUTCOME_KEYS,
    "api",
    "sequence",
    "repeat",
    "probability",
    "calls",
    "after",
    "until",
    "times",
    "name",
)
_RATE_LIMIT_KEYS = ("api", "per_minute", "window", "block", "max_concurrent")
_TOKEN_KEYS = ("expires_in", "lifetime", "expire_at", "expired_errcode")
_SCENARIO_KEYS = ("faults", "rate_limits", "tokens", "seed", "name", "description")


class _Fields:
    """Reads typed values out of one mapping and rejects keys nobody asked for."""

    def __init__(self, data: object, where: str, keys: Iterable[str]) -> None:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{where}: expected a mapping, got {_kind(data)}")
        unknown = sorted(str(k) for k in data if k not in set(keys))
        if unknown:
            raise ScenarioError(f"{where or 'scenario'}: unknown key(s) {', '.join(unknown)}")
        self._data: Mapping[str, Any] = data
        self._where = where

    @property
    def where(self) -> str:
        return self._where

    def at(self, key: str) -> str:
        return f"{self._where}.{key}" if self._where else key

    def get(self, key: str) -> Any:
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return key in self._data

    def number(self, key: str, *, minimum: float | None = None) -> float | None:
        value = self.get(key)
        if value is None:
            return None
        return _number(value, self.at(key), minimum)

    def integer(self, key: str, *, minimum: int | None = None) -> int | None:
        value = self.get(key)
        if value is None:
            return None
        return _integer(value, self.at(key), minimum)

    def string(self, key: str) -> str | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ScenarioError(f"{self.at(key)}: expected a string, got {_kind(value)}")
        return value

    def boolean(self, key: str) -> bool:
        value = self.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ScenarioError(f"{self.at(key)}: expected true or false, got {_kind(value)}")
        return value

    def items(self, key: str) -> list[Any]:
        value = self.get(key)
        if value is None:
            return []
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ScenarioError(f"{self.at(key)}: expected a list, got {_kind(value)}")
        return list(value)


def _kind(value: object) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, Mapping) else "a mapping"


def _integer(value: object, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{where}: expected an integer, got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise ScenarioError(f"{where}: must be >= {minimum}, got {value}")
    return value


def _number(value: object, where: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{where}: expected a number, got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise ScenarioError(f"{where}: must be >= {minimum}, got {value}")
    return float(value)


@dataclass(frozen=True)
class Latency:
    """Added delay in seconds: fixed, ``uniform`` over [a, b] or ``normal`` (mean a, stddev b).

    Samples are clamped to [``minimum``, ``maximum``] (``maximum`` None = unbounded).
    """

    kind: LatencyKind = "fixed"
    a: float = 0.0
    b: float = 0.0
    minimum: float = 0.0
    maximum: float | None = None

    def sample(self, rng: random.Random) -> float:
        if self.kind == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.kind == "normal":
            value = rng.gauss(self.a, self.b)
        else:
            value = self.a
        value = max(self.minimum, value)
        return value if self.maximum is None else min(self.maximum, value)

    @classmethod
    def parse(cls, value: object, where: str) -> Latency:
        if not isinstance(value, Mapping):
            return cls("fixed", _number(value, where, 0.0))
        fields = _Fields(value, where, _LATENCY_KEYS)
        minimum = fields.number("min", minimum=0.0) or 0.0
        maximum = fields.number("max", minimum=0.0)
        if maximum is not None and maximum < minimum:
            raise ScenarioError(f"{where}: max must be >= min")
        kinds = [k for k in ("fixed", "uniform", "normal") if fields.has(k)]
        if len(kinds) != 1:
            raise ScenarioError(f"{where}: give exactly one of fixed, uniform, normal")
        kind: LatencyKind = kinds[0]  # type: ignore[assignment]
        if kind == "fixed":
            latency = cls(
                "fixed", fields.number("fixed", minimum=0.0) or 0.0, 0.0, minimum, maximum
            )
        else:
            pair = fields.items(kind)
            if len(pair) != 2:
                what = "[low, high]" if kind == "uniform" else "[mean, stddev]"
                raise ScenarioError(f"{fields.at(kind)}: expected {what}")
            a, b = (_number(x, fields.at(kind), 0.0) for x in pair)
            if kind == "uniform" and b < a:
                raise ScenarioError(f"{fields.at(kind)}: high must be >= low")
            latency = cls(kind, a, b, minimum, maximum)
        return latency

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.kind: self.a if self.kind == "fixed" else [self.a, self.b]}
        if self.minimum:
            out["min"] = self.minimum
        if self.maximum is not None:
            out["max"] = self.maximum
        return out


@dataclass(frozen=True)
class Outcome:
    """What happens to one call.

    At most one *terminal* effect (``errcode``, ``http_status``, ``reset``, ``hang``); ``latency``
    may come with any of them or alone. An empty outcome lets the call through untouched.
    """

    errcode: int | None = None
    errmsg: str | None = None
    http_status: int | None = None
    body: str | None = None
    content_type: str | None = None
    reset: bool = False
    hang: float | None = None
    latency: Latency | None = None

    @property
    def terminal(self) -> bool:
        return (
            self.errcode is not None
            or self.http_status is not None
            or self.reset
            or self.hang is not None
        )

    def describe(self) -> str:
        """A short label for the call log, e.g. ``errcode=45009`` or ``reset``."""
        parts = []
        if self.errcode is not None:
            parts.append(f"errcode={self.errcode}")
        if self.http_status is not None:
            parts.append(f"http_status={self.http_status}")
        if self.reset:
            parts.append("reset")
        if self.hang is not None:
            parts.append(f"hang={self.hang:g}s")
        if self.latency is not None:
            parts.append("latency")
        return ",".join(parts) or "pass"

    @classmethod
    def parse(cls, value: object, where: str) -> Outcome:
        if value == "ok":
            return cls()
        if isinstance(value, int) and not isinstance(value, bool):
            return cls() if value == 0 else cls(errcode=value)
        fields = _Fields(value, where, _OUTCOME_KEYS)
        return cls._from_fields(fields)

    @classmethod
    def _from_fields(cls, fields: _Fields) -> Outcome:
        latency_value = fields.get("latency")
        http_status = fields.integer("http_status")
        if http_status is not None and http_status not in _HTTP_STATUSES:
            raise ScenarioError(f"{fields.at('http_status')}: not an HTTP status: {http_status}")
        outcome = cls(
            errcode=fields.integer("errcode"),
            errmsg=fields.string("errmsg"),
            http_status=http_status,
            body=fields.string("body"),
            content_type=fields.string("content_type"),
            reset=fields.boolean("reset"),
            hang=fields.number("hang", minimum=0.0),
            latency=None
            if latency_value is None
            else Latency.parse(latency_value, fields.at("latency")),
        )
        terminal = [
            name
            for name, on in (
                ("errcode", outcome.errcode is not None),
                ("http_status", outcome.http_status is not None),
                ("reset", outcome.reset),
                ("hang", outcome.hang is not None),
            )
            if on
        ]
        where = fields.where or "outcome"
        if len(terminal) > 1:
            raise ScenarioError(f"{where}: {' and '.join(terminal)} cannot be combined")
        if outcome.errmsg is not None and outcome.errcode is None:
            raise ScenarioError(f"{where}: errmsg needs errcode")
        if (outcome.body is not None or outcome.content_type is not None) and http_status is None:
            raise ScenarioError(f"{where}: body/content_type need http_status")
        return outcome

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("errcode", "errmsg", "http_status", "body", "content_type", "hang"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.reset:
            out["reset"] = True
        if self.latency is not None:
            out["latency"] = self.latency.to_dict()
        return out


@dataclass(frozen=True)
class Fault:
    """One fault rule: which calls it picks, and the outcome (or sequence of outcomes) it applies.

    Selection (all given conditions must hold): ``api`` (path under ``/cgi-bin/``, ``*`` globs
    allowed), ``calls`` (1-based ordinals among the calls to a matching API), the time window
    [``after``, ``until``) in seconds since the server (or scenario) started, ``probability``
    (drawn from the server's seeded RNG) and ``times`` (fire at most this often).
    """

    api: str = "*"
    outcome: Outcome = field(default_factory=Outcome)
    sequence: tuple[Outcome, ...] = ()
    repeat: bool = False
    probability: float = 1.0
    calls: tuple[int, ...] = ()
    after: float | None = None
    until: float | None = None
    times: int | None = None
    name: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "fault") -> Fault:
        fields = _Fields(data, where, _FAULT_KEYS)
        api = fields.string("api") or "*"
        probability = fields.number("probability", minimum=0.0)
        if probability is not None and probability > 1:
            raise ScenarioError(f"{fields.at('probability')}: must be <= 1, got {probability}")
        calls = tuple(
            _integer(c, f"{fields.at('calls')}[{i}]", 1)
            for i, c in enumerate(fields.items("calls"))
        )
        sequence = tuple(
            Outcome.parse(o, f"{fields.at('sequence')}[{i}]")
            for i, o in enumerate(fields.items("sequence"))
        )
        outcome = Outcome._from_fields(fields)
        if sequence and outcome != Outcome():
            raise ScenarioError(f"{where}: give either a sequence or an outcome, not both")
        if not sequence and outcome == Outcome():
            raise ScenarioError(
                f"{where}: no effect; give errcode, http_status, reset, hang, latency or sequence"
            )
        after = fields.number("after", minimum=0.0)
        until = fields.number("until", minimum=0.0)
        if after is not None and until is not None and until <= after:
            raise ScenarioError(f"{where}: until must be greater than after")
        return cls(
            api=api,
            outcome=outcome,
            sequence=sequence,
            repeat=fields.boolean("repeat"),
            probability=1.0 if probability is None else probability,
            calls=calls,
            after=after,
            until=until,
            times=fields.integer("times", minimum=1),
            name=fields.string("name") or "",
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api": self.api}
        if self.name:
            out["name"] = self.name
        if self.sequence:
            out["sequence"] = [o.to_dict() or "ok" for o in self.sequence]
            if self.repeat:
                out["repeat"] = True
        else:
            out.update(self.outcome.to_dict())
        if self.probability != 1.0:
            out["probability"] = self.probability
        if self.calls:
            out["calls"] = list(self.calls)
        for key in ("after", "until", "times"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class RateLimit:
    """Frequency (45009) and/or concurrency (45033) limit for the APIs matching ``api``.

    Each API counts separately. Over ``per_minute`` calls within ``window`` seconds the API is
    blocked for ``block`` seconds (WeCom's minute-level block is 60 s) and answers 45009; more
    than ``max_concurrent`` calls in flight at once answer 45033.
    """

    api: str = "*"
    per_minute: int | None = None
    window: float = 60.0
    block: float = 60.0
    max_concurrent: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "rate_limit") -> RateLimit:
        fields = _Fields(data, where, _RATE_LIMIT_KEYS)
        limit = cls(
            api=fields.string("api") or "*",
            per_minute=fields.integer("per_minute", minimum=0),
            window=fields.number("window", minimum=0.001) or 60.0,
            block=_default(fields.number("block", minimum=0.0), 60.0),
            max_concurrent=fields.integer("max_concurrent", minimum=0),
        )
        if limit.per_minute is None and limit.max_concurrent is None:
            raise ScenarioError(f"{where}: give per_minute and/or max_concurrent")
        return limit

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"api": self.api}
        if self.per_minute is not None:
            out.update(per_minute=self.per_minute, window=self.window, block=self.block)
        if self.max_concurrent is not None:
            out["max_concurrent"] = self.max_concurrent
        return out


def _default(value: float | None, default: float) -> float:
    return default if value is None else value


@dataclass(frozen=True)
class TokenPolicy:
    """How access tokens live.

    ``expires_in`` is what gettoken reports (None = the server's ``token_ttl``); ``lifetime`` is
    how long a token really works (shorter = "expires early"); at each time in ``expire_at``
    (seconds since start) every live token is invalidated. A dead token answers
    ``expired_errcode`` (42001; real WeCom sometimes says 40014).
    """

    expires_in: int | None = None
    lifetime: float | None = None
    expire_at: tuple[float, ...] = ()
    expired_errcode: int = 42001

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "tokens") -> TokenPolicy:
        fields = _Fields(data, where, _TOKEN_KEYS)
        policy = cls(
            expires_in=fields.integer("expires_in", minimum=1),
            lifetime=fields.number("lifetime", minimum=0.0),
            expire_at=tuple(
                _number(t, f"{fields.at('expire_at')}[{i}]", 0.0)
                for i, t in enumerate(fields.items("expire_at"))
            ),
            expired_errcode=fields.integer("expired_errcode") or 42001,
        )
        if policy.expired_errcode not in (42001, 40014):
            raise ScenarioError(f"{fields.at('expired_errcode')}: must be 42001 or 40014")
        return policy

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"expired_errcode": self.expired_errcode}
        if self.expires_in is not None:
            out["expires_in"] = self.expires_in
        if self.lifetime is not None:
            out["lifetime"] = self.lifetime
        if self.expire_at:
            out["expire_at"] = list(self.expire_at)
        return out


@dataclass(frozen=True)
class Scenario:
    """A named set of fault rules, rate limits and a token policy, with an RNG seed."""

    faults: tuple[Fault, ...] = ()
    rate_limits: tuple[RateLimit, ...] = ()
    tokens: TokenPolicy = field(default_factory=TokenPolicy)
    seed: int | None = None
    name: str = ""
    description: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        fields = _Fields(data, "", _SCENARIO_KEYS)
        tokens = fields.get("tokens")
        return cls(
            faults=tuple(
                Fault.from_dict(f, f"faults[{i}]") for i, f in enumerate(fields.items("faults"))
            ),
            rate_limits=tuple(
                RateLimit.from_dict(r, f"rate_limits[{i}]")
                for i, r in enumerate(fields.items("rate_limits"))
            ),
            tokens=TokenPolicy() if tokens is None else TokenPolicy.from_dict(tokens),
            seed=fields.integer("seed"),
            name=fields.string("name") or "",
            description=fields.string("description") or "",
        )

    @classmethod
    def load(cls, path: Union[str, Path]) -> Scenario:
        """Read a ``.json``, ``.yaml`` or ``.yml`` scenario file (YAML needs PyYAML)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".json", ".yaml", ".yml"):
            raise ScenarioError(f"{path}: unknown scenario file type (use .json, .yaml or .yml)")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"{path}: cannot read scenario file: {exc.strerror}") from exc
        if suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ScenarioError(f"{path}: invalid JSON: {exc}") from exc
        else:
            data = _load_yaml(text, path)
        if data is None:
            data = {}
        try:
            return cls.from_dict(data)
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        if self.seed is not None:
            out["seed"] = self.seed
        out["faults"] = [f.to_dict() for f in self.faults]
        out["rate_limits"] = [r.to_dict() for r in self.rate_limits]
        out["tokens"] = self.tokens.to_dict()
        return out


def _load_yaml(text: str, path: Path) -> Any:
    try:
        import yaml  # noqa: PLC0415 - optional extra, only needed for YAML scenarios
    except ImportError:
        raise ScenarioError(
            f"{path}: reading YAML scenarios needs PyYAML "
            "(pip install 'opentelemetry-instrumentation-wecom[testing]'), or use JSON"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: invalid YAML: {exc}") from exc
