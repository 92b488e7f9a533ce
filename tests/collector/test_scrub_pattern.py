"""The collector's secret-scrubbing statements: generated from the package's list, one pattern.

The OTTL regex is RE2; the subset it uses means the same in Python's ``re``, so the cases below
run offline. The E2E canary test proves the real collector applies it.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from opentelemetry.instrumentation.wecom._redaction import SECRET_PARAMS, TOKEN_VALUE
from opentelemetry.instrumentation.wecom.stack.paths import bundle_dir
from tests._support import script

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_collector_scrub.py"
_CALL = re.compile(
    r"^replace_(?:all_)?patterns?\((?P<target>[^,]+), (?:\"value\", )?"
    r'"(?P<pattern>.*)", "(?P<replacement>[^"]*)"\)(?: where (?P<guard>.*))?$'
)


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return script("generate_collector_scrub")


def _merged(*layers: Path) -> dict[str, Any]:
    """``--config`` layers as the collector merges them: maps merge, anything else replaces."""

    def merge(base: Any, layer: Any) -> Any:
        if isinstance(base, dict) and isinstance(layer, dict):
            return {**base, **{k: merge(base.get(k), v) for k, v in layer.items()}}
        return layer

    merged: dict[str, Any] = {}
    for path in layers:
        merged = merge(merged, yaml.safe_load(path.read_text(encoding="utf-8")))
    return merged


@pytest.mark.parametrize(
    "layers",
    [
        ("otelcol-config.yaml",),
        ("otelcol-config.yaml", "gateway/gateway.yaml"),
        ("gateway/agent.yaml", "gateway/resolver-static.yaml"),
    ],
    ids=["single", "gateway", "agent"],
)
def test_every_pipeline_that_leaves_the_collector_scrubs(layers: tuple[str, ...]) -> None:
    """Data leaves through exporters (connectors stay inside): whatever reaches one has passed
    the scrub, in its own pipeline or in every pipeline that feeds it through a connector.

    The span metrics leave through the metrics pipeline, which scrubs their data point
    attributes (span name, dimensions) and resource.
    """
    config = _merged(*(bundle_dir() / layer for layer in layers))
    pipelines = config["service"]["pipelines"]
    connectors = set(config.get("connectors") or {})

    def scrubbed(name: str) -> bool:
        """True when everything ``name`` passes on has been through the scrub."""
        pipeline = pipelines[name]
        if "transform/scrub_secrets" in pipeline["processors"]:
            return True
        feeders = [
            upstream
            for receiver in pipeline["receivers"]
            for upstream, other in pipelines.items()
            if receiver in connectors and receiver in other["exporters"]
        ]
        return set(pipeline["receivers"]) <= connectors and all(map(scrubbed, feeders))

    leaving = [name for name, p in pipelines.items() if set(p["exporters"]) - connectors]
    assert leaving
    assert [name for name in leaving if not scrubbed(name)] == []


def _statements(config: Path) -> list[str]:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    transform = document["processors"]["transform/scrub_secrets"]
    return [
        statement
        for kind in ("trace_statements", "metric_statements", "log_statements")
        for group in transform[kind]
        for statement in group["statements"]
    ]


def _parsed(config: Path) -> list[re.Match[str]]:
    statements = _statements(config)
    matches = [_CALL.match(s) for s in statements]
    assert all(matches), statements
    return [m for m in matches if m is not None]


def _python_pattern(match: re.Match[str]) -> str:
    return match["pattern"].encode().decode("unicode_escape")  # OTTL string escapes


def scrub(text: str) -> str:
    """The bundled config's scrub, applied with Python's ``re``."""
    match = _parsed(bundle_dir() / "otelcol-config.yaml")[0]
    replacement = re.sub(r"\$\$\{(\d)\}", r"\\g<\1>", match["replacement"])  # $$ is YAML's escape
    return re.sub(_python_pattern(match), replacement, text)


def test_every_marked_config_matches_the_generator(generator: ModuleType) -> None:
    """Drift check: regenerating from SECRET_PARAMS changes no file under collector/."""
    files = generator.marked_files(bundle_dir())
    assert bundle_dir() / "otelcol-config.yaml" in files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert generator.regenerate(text) == text, f"{path}: run {GENERATOR.name}"
    assert generator.main(["--check", "--root", str(bundle_dir())]) == 0


def test_check_mode_fails_on_a_stale_block(generator: ModuleType, tmp_path: Path) -> None:
    text = (bundle_dir() / "otelcol-config.yaml").read_text(encoding="utf-8")
    stale = tmp_path / "stale.yaml"
    stale.write_text(text.replace("|token|", "|"), encoding="utf-8")
    assert generator.main(["--check", "--root", str(tmp_path)]) == 1
    assert stale.read_text(encoding="utf-8") != text
    assert generator.main(["--root", str(tmp_path)]) == 0
    assert stale.read_text(encoding="utf-8") == text


def test_one_pattern_built_from_the_package_list(generator: ModuleType) -> None:
    for config in generator.marked_files(bundle_dir()):
        parsed = _parsed(config)
        assert {(m["pattern"], m["replacement"]) for m in parsed} == {
            (parsed[0]["pattern"], "$${1}$${2}$${3}REDACTED")
        }
        names = re.search(r"\(\?:([a-z_|]+)\)\)\(\?:\(", _python_pattern(parsed[0]))
        assert names is not None
        assert set(names.group(1).split("|")) == set(SECRET_PARAMS), config
        assert {
            "resource.attributes",
            "span.attributes",
            "span.name",
            "span.status.message",
            "spanevent.attributes",
            "spanevent.name",
            "datapoint.attributes",
            "log.attributes",
            "log.body",
        } <= {m["target"] for m in parsed}


@pytest.mark.parametrize("name", sorted(SECRET_PARAMS))
def test_every_secret_param_is_redacted_keeping_the_key(name: str) -> None:
    assert scrub(f"https://qyapi.weixin.qq.com/cgi-bin/x?a=1&{name}=S3cr3t&b=2") == (
        f"https://qyapi.weixin.qq.com/cgi-bin/x?a=1&{name}=REDACTED&b=2"
    )
    json_body = f'{{"{name}": "S3cr3t", "errcode": 0}}'
    assert scrub(json_body) == json_body.replace("S3cr3t", "REDACTED")
    assert scrub(f"GET /cgi-bin/x?{name}=S3cr3t") == f"GET /cgi-bin/x?{name}=REDACTED"
    assert scrub(f"{name}=S3cr3t&x=1") == f"{name}=REDACTED&x=1"  # a form body
    assert scrub(f"retry {name}=S3cr3t") == f"retry {name}=REDACTED"  # free text


@pytest.mark.parametrize(
    "text",
    [
        "errcode=0&errmsg=ok",
        "wecom message/send",
        "xkey=keep&monkey=business",
        "?token_type=bearer&keyword=x",
        '{"errcode": 42001, "errmsg": "access_token expired"}',
    ],
)
def test_lookalikes_are_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_case_insensitive_and_repeated() -> None:
    assert scrub("?ACCESS_TOKEN=a&CorpSecret=b") == "?ACCESS_TOKEN=REDACTED&CorpSecret=REDACTED"


def test_free_text_is_scanned_only_when_it_holds_an_equals_sign_or_a_colon(
    generator: ModuleType,
) -> None:
    """Every match has ``=`` or a colon after the name, so names without either are skipped."""
    statements = _parsed(bundle_dir() / "otelcol-config.yaml")
    guards = {m["target"]: m["guard"] for m in statements}
    for field in ("span.name", "spanevent.name"):
        assert guards[field] == f'Index({field}, "=") >= 0 or Index({field}, ":") >= 0'
    assert guards["span.attributes"] is None  # every attribute value is scanned
    # The joints: each assigned one, and the logged one.
    assigned = generator._JOINT.removeprefix("(?:").removesuffix(")").split("|")
    assert len(assigned) == 2
    assert all(any(needle in joint for needle in ("=", ":")) for joint in assigned)
    assert rf"|({generator._LOGGED}){TOKEN_VALUE})" in _python_pattern(statements[0])
    assert "[=:]" in generator._LOGGED  # the logged joint needs one of them too


SECRET = "0123456789abcdefXYZ"  # 19 token characters: shaped like a credential


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        # Escaped JSON, as an exception quotes raw response bytes.
        (f'b\'{{\\"corpsecret\\": \\"{SECRET}\\"}}\'', 'b\'{\\"corpsecret\\": \\"REDACTED\\"}\''),
        # A Python dict's repr, as an app logs its request parameters.
        (
            f"params {{'corpid': 'ww1', 'corpsecret': '{SECRET}'}}",
            "params {'corpid': 'ww1', 'corpsecret': 'REDACTED'}",
        ),
        # logfmt, quoted or spaced.
        (f'level=info access_token="{SECRET}" n=1', 'level=info access_token="REDACTED" n=1'),
        (f"secret = {SECRET}", "secret = REDACTED"),
        # A log line or YAML: a bare colon, then a value shaped like a credential.
        (f"access_token: {SECRET}", "access_token: REDACTED"),
        (f"corpsecret: '{SECRET}'", "corpsecret: 'REDACTED'"),
        (f"token:{SECRET}", "token:REDACTED"),
        # An errmsg naming the secret, then the value after words of the same clause.
        (
            f"invalid credential, access_token is invalid or not latest: {SECRET}, hint: [x]",
            "invalid credential, access_token is invalid or not latest: REDACTED, hint: [x]",
        ),
        # A backslash inside a value is part of it; one before the closing quote is not.
        (f"access_token=ab\\cd{SECRET}&x=1", "access_token=REDACTED&x=1"),
    ],
    ids=[
        "escaped-json",
        "python-repr",
        "logfmt-quoted",
        "spaced",
        "colon",
        "yaml",
        "tight-colon",
        "errmsg",
        "backslash",
    ],
)
def test_the_shapes_apps_log_secrets_in_are_redacted(text: str, scrubbed: str) -> None:
    assert scrub(text) == scrubbed
    assert SECRET not in scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        "status code: 404",
        "token: expired",
        "key: short-value",
        '{"code": 0, "msg": "ok"}',
        "secret: the rotation is due",
        "token expired, hint: [1576065934_28_e0fae07666aa64636023c1fa7e8f49a4]",
        "access_token is invalid, from ip: 203.0.113.7",
        "secret key of the app rotated on 2026-12-01T10:00:00Z",
    ],
)
def test_a_logged_value_must_be_shaped_like_a_credential(text: str) -> None:
    assert scrub(text) == text
