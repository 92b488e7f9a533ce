"""Scenario files and mappings: parsing, clear errors, the shipped examples."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from opentelemetry.instrumentation.wecom.testing import (
    Fault,
    Latency,
    MockWeComServer,
    Outcome,
    RateLimit,
    Scenario,
    ScenarioError,
    TokenPolicy,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"

FULL = {
    "name": "full",
    "description": "every knob",
    "seed": 3,
    "tokens": {"expires_in": 3600, "lifetime": 5, "expire_at": [10], "expired_errcode": 40014},
    "rate_limits": [
        {"api": "message/send", "per_minute": 5, "window": 60, "block": 60},
        {"api": "user/*", "max_concurrent": 2},
    ],
    "faults": [
        {
            "api": "message/send",
            "errcode": 45009,
            "errmsg": "api freq out of limit",
            "calls": [2, 3],
        },
        {"api": "*", "latency": {"uniform": [0.1, 0.2]}, "probability": 0.5},
        {"api": "gettoken", "sequence": ["ok", 40001, {"http_status": 503}], "repeat": True},
        {"api": "media/get", "hang": 10, "after": 1, "until": 2, "times": 1, "name": "stall"},
        {"api": "user/get", "reset": True},
        {"api": "user/list", "http_status": 200, "body": "<html/>", "content_type": "text/html"},
    ],
}


def test_from_dict_builds_typed_objects() -> None:
    scenario = Scenario.from_dict(FULL)
    assert scenario.seed == 3
    assert scenario.tokens == TokenPolicy(3600, 5.0, (10.0,), 40014)
    assert scenario.rate_limits[1] == RateLimit(api="user/*", max_concurrent=2)
    first = scenario.faults[0]
    assert first == Fault(
        api="message/send",
        outcome=Outcome(errcode=45009, errmsg="api freq out of limit"),
        calls=(2, 3),
    )
    assert scenario.faults[1].outcome.latency == Latency("uniform", 0.1, 0.2)
    assert scenario.faults[2].sequence == (
        Outcome(),
        Outcome(errcode=40001),
        Outcome(http_status=503),
    )
    assert scenario.faults[3].name == "stall"


def test_to_dict_round_trips() -> None:
    scenario = Scenario.from_dict(FULL)
    assert Scenario.from_dict(scenario.to_dict()) == scenario


def test_load_json_and_yaml(tmp_path: Path) -> None:
    as_json = tmp_path / "s.json"
    as_json.write_text(json.dumps(FULL))
    as_yaml = tmp_path / "s.yaml"
    as_yaml.write_text("seed: 3\nfaults:\n  - api: gettoken\n    errcode: 40013\n")
    assert Scenario.load(as_json) == Scenario.from_dict(FULL)
    assert Scenario.load(as_yaml).faults[0].outcome.errcode == 40013
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    assert Scenario.load(empty) == Scenario()


def test_server_accepts_a_path(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"faults": [{"api": "gettoken", "errcode": -1}]}))
    with MockWeComServer(scenario=str(path)) as mock:
        assert httpx.get(mock.api_base_url + "gettoken").json()["errcode"] == -1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"faults": [{"api": "x", "errcode": 1}, {"api": "y", "errcod": 2}]},
            "faults[1]: unknown key(s) errcod",
        ),
        ({"faults": [{"latency": "slow"}]}, "faults[0].latency: expected a number, got str 'slow'"),
        (
            {"faults": [{"latency": {"uniform": [2, 1]}}]},
            "faults[0].latency.uniform: high must be >= low",
        ),
        ({"faults": [{"latency": {"gamma": 1}}]}, "faults[0].latency: unknown key(s) gamma"),
        ({"faults": [{"latency": {"min": 1}}]}, "faults[0].latency: give exactly one of fixed"),
        (
            {"faults": [{"errcode": 1, "reset": True}]},
            "faults[0]: errcode and reset cannot be combined",
        ),
        ({"faults": [{"api": "x"}]}, "faults[0]: no effect"),
        ({"faults": [{"errcode": 1, "calls": [0]}]}, "faults[0].calls[0]: must be >= 1, got 0"),
        ({"faults": [{"errcode": 1, "calls": [1.5]}]}, "faults[0].calls[0]: expected an integer"),
        (
            {"faults": [{"latency": {"fixed": 1, "min": 2, "max": 1}}]},
            "latency: max must be >= min",
        ),
        ({"faults": [{"errcode": 1, "sequence": [1]}]}, "either a sequence or an outcome"),
        (
            {"faults": [{"sequence": [{"reset": "yes"}]}]},
            "faults[0].sequence[0].reset: expected true or false",
        ),
        ({"faults": [{"errcode": 1, "probability": 1.5}]}, "faults[0].probability: must be <= 1"),
        ({"faults": [{"errcode": 1, "after": 5, "until": 5}]}, "until must be greater than after"),
        ({"faults": [{"http_status": 99}]}, "faults[0].http_status: not an HTTP status"),
        ({"faults": [{"body": "x"}]}, "body/content_type need http_status"),
        ({"faults": {"api": "x"}}, "faults: expected a list"),
        ({"faults": ["boom"]}, "faults[0]: expected a mapping, got str 'boom'"),
        ({"rate_limits": [{"api": "x"}]}, "rate_limits[0]: give per_minute and/or max_concurrent"),
        ({"tokens": {"expired_errcode": 1}}, "tokens.expired_errcode: must be 42001 or 40014"),
        ({"seed": "x"}, "seed: expected an integer"),
        ({"fault": []}, "scenario: unknown key(s) fault"),
    ],
)
def test_malformed_scenarios_name_the_problem(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict(data)
    assert message in str(caught.value)


def test_malformed_files_name_the_file(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"faults": [}')
    with pytest.raises(ScenarioError, match=r"bad\.json: invalid JSON"):
        Scenario.load(bad_json)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("faults: [\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: invalid YAML"):
        Scenario.load(bad_yaml)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("faults:\n  - api: x\n    latency: -1\n")
    with pytest.raises(ScenarioError, match=r"wrong\.yaml: faults\[0\]\.latency: must be >= 0"):
        Scenario.load(wrong)
    with pytest.raises(ScenarioError, match="unknown scenario file type"):
        Scenario.load(tmp_path / "s.toml")
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        Scenario.load(tmp_path / "missing.json")
    top_list = tmp_path / "list.json"
    top_list.write_text("[]")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        Scenario.load(top_list)


def test_yaml_without_pyyaml_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("seed: 1\n")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ScenarioError, match=r"needs PyYAML .*\[testing\]"):
        Scenario.load(path)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.*")), ids=lambda p: p.name)
def test_shipped_example_scenarios_load_and_serve(path: Path) -> None:
    scenario = Scenario.load(path)
    assert scenario.name
    assert scenario.faults
    with MockWeComServer(scenario=scenario) as mock:
        reply = httpx.get(
            mock.api_base_url + "getcallbackip", params={"access_token": "x"}, timeout=5
        )
        assert reply.status_code == 200
