# hostsec.mgmt developer entry points. See README.md.
#
#   make demo   - set up everything, start the embedded services, apply the grid_node role to localhost twice
#   make test   - every test: sanity, docs lint, ansible-lint, unit, integration, molecule
#
# Both work on a fresh Debian 12 machine as root: they create .venv, install the Python
# packages into it and the system packages listed in bindep.txt (profile "test").

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
COLL := $(COLLECTIONS)/ansible_collections/hostsec/mgmt
PYTEST_ARGS ?=
# `make test` runs the test files on this many pytest-xdist workers (tests/conftest.py keeps a
# file, and the files that run ansible-test, on one worker each). TEST_JOBS=0 runs them in one.
TEST_JOBS ?= 3

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# Ansible's local tmp and caches under build/, never in ~/.ansible.
export ANSIBLE_HOME := $(BUILD)/ansible-home
export ANSIBLE_REMOTE_TMP := $(BUILD)/ansible-home/remote-tmp
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv venv-lint sysdeps sysdeps-lint collection install test demo lint sanity units integration molecule \
        conformance \
        docs-lint docs bench clean distclean

help:
	@echo "make demo       apply the grid_node role to localhost twice against the embedded local services"
	@echo "make test       run every test (ends with pytest's summary line)"
	@echo "make lint       static checks only: ansible-test sanity, antsibull-docs lint, ansible-lint"
	@echo "make units | integration | molecule   one group of tests"
	@echo "make conformance  pywbem's recorded CIM-XML cases against the WBEM client"
	@echo "make docs       HTML documentation into docs/build/html"
	@echo "make bench      run the benchmarks under benchmarks/"
	@echo "make clean      remove build output (make distclean also removes .venv)"

$(BIN)/bindep:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q bindep

# System packages (bindep.txt): checked on every run, installed when missing. Profile "test"
# for the tests and the demo (services included), profile "lint" for `make lint` and `make docs`.
sysdeps: $(BIN)/bindep
	tools/install_sysdeps.sh $(BIN)/bindep test

sysdeps-lint: $(BIN)/bindep
	tools/install_sysdeps.sh $(BIN)/bindep lint

$(VENV)/.installed: tests/requirements.txt tests/requirements-lint.txt requirements.txt | sysdeps
	$(BIN)/pip install -q -r tests/requirements.txt
	touch $@ $(VENV)/.installed-lint

$(VENV)/.installed-lint: tests/requirements-lint.txt | sysdeps-lint
	$(BIN)/pip install -q -r tests/requirements-lint.txt
	touch $@

venv: sysdeps $(VENV)/.installed

venv-lint: sysdeps-lint $(VENV)/.installed-lint

collection:
	$(BIN)/python tools/sync_collection.py --dest $(COLL)

test: venv collection
	$(BIN)/python -m pytest tests -n $(TEST_JOBS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

# The static checks and the docs need no test services: profile "lint", tests/requirements-lint.txt
# (pytest runs them, so it is installed too).
lint: venv-lint collection
	$(BIN)/pip install -q pytest pytest-timeout
	$(BIN)/python -m pytest tests/quality $(PYTEST_ARGS)

sanity: venv-lint collection
	$(BIN)/pip install -q pytest pytest-timeout
	$(BIN)/python -m pytest tests/quality -k sanity $(PYTEST_ARGS)

docs-lint: venv-lint collection
	$(BIN)/pip install -q pytest pytest-timeout
	$(BIN)/python -m pytest tests/quality -k docs $(PYTEST_ARGS)

units: venv collection
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: venv collection
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

molecule: venv collection
	$(BIN)/python -m pytest tests/molecule $(PYTEST_ARGS)

# The release artifact, built and installed into the virtualenv (what `make demo` runs).
install: venv
	rm -rf $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .
	$(BIN)/ansible-galaxy collection install --force -p $(VENV)/collections $(BUILD)/dist/hostsec-mgmt-*.tar.gz

demo: install collection
	$(BIN)/python tools/demo.py --collections-path $(CURDIR)/$(VENV)/collections

# pywbem's recorded CIM-XML cases replayed against our WBEM client (also part of `make test`).
conformance: venv collection
	$(BIN)/python tests/conformance/pywbem_cases.py

docs: venv-lint collection
	tools/build_docs.sh $(BUILD)/docsite docs/build

bench: venv collection
	@set -e; for b in benchmarks/*.py; do \
	    echo "== $$b"; $(BIN)/python "$$b"; \
	done

clean:
	rm -rf $(BUILD) docs/build tests/output .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
