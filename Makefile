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
# mkdocs-material prints a banner about its successor on every build; the build is what matters.
export NO_MKDOCS_2_WARNING := 1
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup system-packages synth test lint docs docs-generate unit e2e cluster mutate bench bench-e2e bench-cluster imports clean

setup: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

# What synthesis needs and nothing more: the package with its runtime dependencies.
$(VENV)/.runtime: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

# Then the tests', linters', benchmarks' and docs site's tools.
$(VENV)/.installed: $(VENV)/.runtime
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,docs]'
	touch $@

$(CHECKOV_VENV)/.installed: constraints-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -c constraints-checkov.txt checkov
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Synthesize dist/ from main.py through the real cdk8s CLI; installs only what that needs.
## `cdk8s synth` empties its output folder before it runs the app, so it writes to
## .dist-new and dist/ is replaced only when it succeeded: a failed run leaves dist/ as it was.
## Values files in $PREPULLER_VALUES are checked first, for a one-line message.
synth: $(VENV)/.runtime node_modules/.installed
	$(PY) main.py --check
	rm -rf .dist-new
	cdk8s synth --output .dist-new
	rm -rf dist && mv .dist-new dist

## Debian packages the unit tests run for real: a static busybox (the startup-taint script
## runs under it, as in the pod), strace (tests/test_network_in_cluster.py: in-cluster kubectl
## resolves no name) and docker-registry (tests/test_lock_registry.py: `prepuller lock` against
## a real registry on loopback). Installed when missing and root; otherwise those tests say why.
system-packages:
	@command -v busybox >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; } || true
	@command -v strace >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; } || true
	@command -v docker-registry >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; } || true

## Everything CI runs: lint, types, unit tests, the end-to-end suite, the real-cluster suite.
test: setup system-packages lint unit e2e cluster

lint: setup docs
	$(PY) -m ruff check .
	$(PY) -m ruff format --check $(wildcard prepuller tests main.py benchmarks tools)
	$(PY) -m mypy

## The docs site, strictly: any warning (a broken link or anchor, a page not in mkdocs.yml's nav) fails.
## The generated reference pages are checked by tests/test_docs.py; `make docs-generate` rewrites them.
docs: setup
	$(PY) -m mkdocs build --strict --quiet --site-dir build/site

docs-generate: setup
	$(PY) tools/generate_docs.py

unit: setup
	$(PY) -m pytest -m "not e2e and not cluster"

## End-to-end on podman + a local registry (root; installs Debian packages; see the README).
e2e: setup
	tests/e2e/run

## The real-cluster suite: a one-node cluster built from source (root; see docs/cluster.md).
## A cold build of its binaries takes tens of minutes; they are cached outside the repository.
cluster: setup
	tests/cluster/run

## Mutation testing of the core modules (slow: not part of `make test`; see docs/mutation.md).
## Incremental (results kept in mutants/); MODULES="references groups" runs only those.
mutate: setup
	$(PY) -m tests.support.mutate $(MODULES)

## Benchmarks (not tests): synth time and memory, status, lock (a local docker-registry), end-to-end pull times.
bench: setup
	$(PY) benchmarks/synth.py
	$(PY) benchmarks/grouping.py
	$(PY) benchmarks/discovery.py
	$(PY) benchmarks/status.py
	$(PY) benchmarks/lock.py

## Pull times on a real engine: the prepuller against `podman pull` floors (root; see the README).
bench-e2e: setup
	tests/e2e/run $(PY) benchmarks/e2e_pull.py

## Pull times on the real cluster: the prepuller against `crictl pull` floors (root).
bench-cluster: setup
	tests/cluster/run $(PY) benchmarks/cluster_pull.py

## Regenerate imports/ offline from the schema kubernetes-validate ships.
imports: setup
	source $(VENV)/bin/activate && ../shared/tools/cdk8s-import-offline

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules build .dist-new mutants *.egg-info .pytest_cache .mypy_cache .ruff_cache
