# Omnishop: two commands. `make run` starts the local runtime, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench setup synth lint clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: setup
	exec $(PY) -m infra.local

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) -m bench

synth: setup
	$(PY) -m infra.app

clean:
	rm -rf $(VENV) node_modules .local chalice.out cdk.out .pytest_cache
