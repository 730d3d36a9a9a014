# Two commands for a fresh machine:  `make synth`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# checkov pins packaging<24 and pytest needs >=24, so the scanner gets a venv of its own
# (tests/checkov_runner.py runs it from there; ~50 s to build, ~290 MB).
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_SUPPORT_WARNING := 1
export CDK8S_CHECK_UPGRADE := false
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup system-packages synth test lint unit e2e mutate bench bench-e2e imports clean

setup: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(CHECKOV_VENV)/.installed: constraints-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -c constraints-checkov.txt checkov
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Synthesize dist/ from main.py through the real cdk8s CLI. Values files in
## $PREPULLER_VALUES are checked first: `cdk8s synth` empties dist/ before running the app.
synth: setup
	$(PY) main.py --check
	cdk8s synth

## Debian packages the unit tests run for real: a static busybox (the startup-taint script
## runs under it, as in the pod) and strace (tests/test_network_in_cluster.py: in-cluster kubectl
## resolves no name). Installed when missing and root; otherwise those tests say why.
system-packages:
	@command -v busybox >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; } || true
	@command -v strace >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; } || true

## Everything CI runs: lint, types, unit tests, then the end-to-end suite.
test: setup system-packages lint unit e2e

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check $(wildcard prepuller tests main.py benchmarks)
	$(PY) -m mypy

unit: setup
	$(PY) -m pytest -m "not e2e"

## End-to-end on podman + a local registry (root; installs Debian packages; see the README).
e2e: setup
	tests/e2e/run

## Mutation testing of the core modules (slow: not part of `make test`; see docs/mutation.md).
## Incremental (results kept in mutants/); MODULES="references groups" runs only those.
mutate: setup
	$(PY) -m tests.support.mutate $(MODULES)

## Benchmarks (not tests): synth time and memory, end-to-end pull times.
bench: setup
	$(PY) benchmarks/synth.py
	$(PY) benchmarks/grouping.py
	$(PY) benchmarks/discovery.py
	$(PY) benchmarks/status.py

## Pull times on a real engine: the prepuller against `podman pull` floors (root; see the README).
bench-e2e: setup
	tests/e2e/run $(PY) benchmarks/e2e_pull.py

## Regenerate imports/ offline from the schema kubernetes-validate ships.
imports: setup
	source $(VENV)/bin/activate && ../shared/tools/cdk8s-import-offline

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules build mutants *.egg-info .pytest_cache .mypy_cache .ruff_cache
