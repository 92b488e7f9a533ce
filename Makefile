# Common chores. `make test` is the command CI runs (.ci/run) and README.md gives.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PKG := src/opentelemetry/instrumentation/wecom

.PHONY: help venv demo demo-stack compat test lint format typecheck unit e2e provision browser bench bench-collector bench-diagnosis stack-up stack-down clean fuzz

help:
	@echo "make demo       run the demo (mock WeCom with faults -> traces, metrics, summary)"
	@echo "make demo-stack the demo against a local collector + Jaeger + Prometheus (needs Go)"
	@echo "make test       everything CI runs: provision, lint, typecheck, all tests"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make format     ruff format + ruff check --fix"
	@echo "make typecheck  mypy (strict) on the package"
	@echo "make unit       the tests that need no collector/Jaeger/Prometheus"
	@echo "make e2e        the end-to-end tests on the real collector, Jaeger and Prometheus"
	@echo "make provision  build/install the collector, Jaeger, Prometheus, kustomize, kubeconform (cached)"
	@echo "make browser    install Debian's chromium (+ a CJK font) for the HTML report tests"
	@echo "make compat     the non-e2e tests on Python 3.9 with the lowest supported OpenTelemetry"
	@echo "make bench      the benchmarks (figures go to docs/benchmarks.md by hand)"
	@echo "make bench-collector  collector throughput: bundled config vs pass-through (telemetrygen)"
	@echo "make bench-diagnosis  diagnose() over one hour of 20 APIs on the local stack (backfilled)"
	@echo "make fuzz       the long differential fuzz: 10,000 odd WeCom responses (docs/fuzzing.md)"
	@echo "make stack-up / stack-down   the local collector + Jaeger + Prometheus"
	@echo "make venv       create .venv with the package and its dev tools (most targets make it first)"
	@echo "make clean      remove .venv, the tool caches and build output"

$(BIN)/wecom-otel: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/wecom-otel

demo: venv
	$(BIN)/wecom-otel demo

demo-stack: provision
	$(BIN)/wecom-otel stack up
	$(BIN)/wecom-otel demo --stack

provision: venv
	$(BIN)/wecom-otel stack build
	$(BIN)/python scripts/k8s_tools.py
	@# telemetrygen (collector throughput benchmark and its smoke test), cached like the collector
	$(BIN)/python -c 'from benchmarks.collector.harness import telemetrygen; print(telemetrygen())'

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -m "not e2e"

e2e: provision
	$(BIN)/pytest -m e2e

# A test tool, not part of the user's stack: the HTML report tests drive it headless
# (tests/diagnosis/test_report_browser.py). Installed from Debian when missing and root.
CHROMIUM ?= /usr/bin/chromium
BROWSER_PACKAGES := chromium fonts-wqy-microhei

browser:
	@if [ -x $(CHROMIUM) ] && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(BROWSER_PACKAGES) with apt-get (for the HTML report tests) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	else \
		echo "make browser: $(CHROMIUM) is missing; install it: sudo apt-get install $(BROWSER_PACKAGES)"; \
	fi

test: provision browser lint typecheck
	$(BIN)/pytest

# The oldest Python and the lower bounds of the OpenTelemetry ranges in pyproject.toml.
COMPAT_PYTHON ?= python3.9  # with pyenv: make compat COMPAT_PYTHON=$$(pyenv prefix 3.9.18)/bin/python
COMPAT_VENV ?= .venv-compat
COMPAT_PINS := opentelemetry-api==1.36.0 opentelemetry-sdk==1.36.0 \
	opentelemetry-instrumentation==0.57b0 opentelemetry-semantic-conventions==0.57b0 \
	opentelemetry-instrumentation-httpx==0.57b0 opentelemetry-instrumentation-requests==0.57b0 \
	opentelemetry-instrumentation-aiohttp-client==0.57b0 \
	opentelemetry-util-http==0.57b0 opentelemetry-distro==0.57b0 opentelemetry-proto==1.36.0 \
	opentelemetry-exporter-otlp-proto-grpc==1.36.0 opentelemetry-exporter-otlp-proto-http==1.36.0 \
	opentelemetry-exporter-otlp-proto-common==1.36.0 wrapt==1.14.1

compat:
	$(COMPAT_PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COMPAT_VENV)/bin/python -m pip install --quiet -e '.[dev]' $(COMPAT_PINS)
	$(COMPAT_VENV)/bin/python -m pytest -m "not e2e" tests/instrumentation tests/errcodes \
		tests/testing tests/enable tests/zerocode tests/callbacks tests/test_public_api.py

bench: venv
	$(BIN)/python -m benchmarks

bench-collector: provision
	$(BIN)/python -m benchmarks.collector

bench-diagnosis: provision
	$(BIN)/python -m benchmarks.diagnosis

# The long profile of tests/fuzz (make test runs the bounded one); FUZZ_EXAMPLES=N to change.
FUZZ_EXAMPLES ?= 10000
fuzz: venv
	WECOM_FUZZ_PROFILE=long WECOM_FUZZ_SURVEY=1 WECOM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		WECOM_FUZZ_REPORT=fuzz-report.txt $(BIN)/pytest tests/fuzz -p no:cacheprovider -q -s --timeout=0

stack-up: provision
	$(BIN)/wecom-otel stack up

stack-down: venv
	$(BIN)/wecom-otel stack down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
