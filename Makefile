# Omnishop: two commands. `make run` starts the local runtime, `make test` runs every test.
SHELL := /bin/bash
# The interpreter .venv is made with (an existing .venv is kept: `rm -rf .venv` to make it again).
# Debian's python3.11 where it is there with its venv module (this machine kind and CI): Debian
# builds it with PGO and LTO, and the component tests take about 8% less CPU on it than on the
# python3 first on this machine's PATH (pyenv's 3.11.7, built without them; docs/decisions.md,
# session 16). Nothing is installed for it: elsewhere (another distribution, Ubuntu 24.04's 3.12,
# macOS) python3 on PATH, as before. `make PYTHON=python3.12 setup` (any 3.11+) chooses another.
DEBIAN_PYTHON := /usr/bin/python3.11
ifneq ($(wildcard $(DEBIAN_PYTHON)),)
ifneq ($(wildcard /usr/lib/python3.11/ensurepip/__init__.py),)
PYTHON ?= $(DEBIAN_PYTHON)
endif
endif
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Empty, so Python writes bytecode in every target (CI's shell sets it to 1; see setup below).
export PYTHONDONTWRITEBYTECODE :=
export SCARF_ANALYTICS := false  # swagger-ui-dist's dependency @scarf/scarf: no install-time analytics

.PHONY: help run demo reset test bench bench-quick setup synth lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 10

# The three are made side by side (a sub-make with -j3): from a clean clone the venv's install and
# `npm ci` each take about 9 s, mostly CPU (9.5 s and 8.1 s apart, 17.6 s one after the other).
SETUP := $(VENV)/.installed node_modules/.installed $(CHROMIUM)
setup:  ## install .venv, node_modules and chromium
	@$(MAKE) --no-print-directory -q $(SETUP) || $(MAKE) --no-print-directory -j3 $(SETUP)

# uv (from PyPI) installs the pinned packages (a few seconds with its cache warm; pip took 80 s).
# It does not compile them: every target here writes bytecode as it goes (PYTHONDONTWRITEBYTECODE
# is emptied below, as CI's shell sets it), so a module is compiled the first time something imports
# it. `--compile-bytecode` compiled all 9,400 modules up front, aws_cdk's 178 MB of source among
# them, of which the suite imports under half: 25 s of setup before any test ran, for the same
# test time (session 14, docs/decisions.md). pip stays in the venv at the version chalice 1.34
# needs (<26.3): `chalice package` runs it to build the Lambda bundles.
UV_VERSION := 0.13.9
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --system-certs --python $(PY) pip==26.2.1 -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser of tests/docs/test_docs_browser.py: Debian's chromium, driven by Playwright from PyPI
# (`playwright install` would download a browser from a CDN). Installed as root (CI), else sudo.
$(CHROMIUM):
	$$([ "$$(id -u)" = 0 ] || echo sudo) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'

run: setup  ## start Omnishop locally on http://127.0.0.1:8000 (moto, resources, demo data)
	exec $(PY) -m infra.local

demo: setup  ## play the acceptance story, narrated, on a runtime of its own (about 30 s)
	$(PY) -m infra.local.demo

# `make run` keeps its tables and token signing key in its state dir (infra/local/state.py):
# OMNISHOP_LOCAL_STATE_DIR, default .local/state (`off`: nothing kept). Stop `make run` first: it saves
# on stop. .local/signing-key.pem is where older checkouts kept the key.
reset:  ## forget the local runtime's kept state (tables, signing key) so the next make run starts clean
	@dir="$${OMNISHOP_LOCAL_STATE_DIR:-.local/state}"; \
	if [[ "$${dir,,}" == off ]]; then dir=; echo "OMNISHOP_LOCAL_STATE_DIR=off: there is no state dir"; fi; \
	set -x; rm -rf -- $${dir:+"$$dir"} .local/signing-key.pem

# Three workers (pytest-xdist) on CI's 2 cores: a third keeps the CPU busy while tests wait on their
# local runtimes (from a clean clone: 7 min 18 s with 3, 8 min 24 s with 2). Tests that share a
# costly fixture stay in one worker (tests/conftest.py pytest_collection_modifyitems); modules marked
# `waits` run one at a time while other work is left (tests/support/scheduling.py).
# PYTEST_WORKERS=0 runs them in this process.
# The 25 slowest tests are listed at the end (where the time of the developer loop goes).
# The suite writes bytecode (as every target here): pytest keeps the test modules it rewrote for
# their asserts only where bytecode may be written, and every worker and local runtime would
# otherwise compile the project's modules again from source (collection alone: 20 CPU-seconds per
# worker without, 6 with).
# Before the workers start, one process collects the suite (its output and status are the run's
# business, not this step's): from a clean clone it compiles the 2,300 modules collection imports
# once (about 20 CPU-seconds), which the three workers, starting together, each compiled again.
# The lint checks run beside the suite, in the CPU the suite leaves idle while its tests wait on
# local runtimes (mypy from a clean clone: about 15 CPU-seconds); their output is printed
# after the suite's, and either failing fails make test.
PYTEST_WORKERS ?= 3
LINT_LOG := .lint.log
test: setup  ## run the lint checks beside the whole test suite (what CI runs)
	@$(MAKE) -s lint > $(LINT_LOG) 2>&1 & lint=$$!; \
	$(PY) -m pytest --collect-only -q > /dev/null 2>&1; \
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25; tests=$$?; \
	wait $$lint; linted=$$?; \
	echo "== make lint (ran beside the suite) =="; cat $(LINT_LOG); \
	[ $$linted = 0 ] || echo "make test: the lint checks failed (above)"; \
	[ $$tests = 0 ] && [ $$linted = 0 ]

lint: setup  ## ruff over the whole tree, mypy, then the import-linter contracts (settings in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# BENCH: sections to run (`make bench BENCH="basket ordering"`; `.venv/bin/python -m bench --list`).
bench: setup  ## print the benchmark figures (all of them)
	$(PY) -m bench $(BENCH)

bench-quick: setup  ## print the headline benchmark figures (under two minutes)
	$(PY) -m bench --quick

synth: setup  ## synthesize the CDK app with Lambda bundling into cdk.out/
	$(PY) -m chalicelib.docs.api  # Swagger UI for /docs, from node_modules to vendor/ (chalice ships it)
	$(PY) -m infra.app

clean:  ## remove .venv, node_modules, .local and build output
	rm -rf $(VENV) node_modules .local chalice.out cdk.out .pytest_cache .mypy_cache $(LINT_LOG)
