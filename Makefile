# hostsec.mgmt developer entry points. See README.md.
#
#   make demo   - set up everything, start the embedded services, run playbooks/demo.yml twice
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

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv sysdeps collection install test demo lint sanity units integration molecule \
        docs-lint docs bench clean distclean

help:
	@echo "make demo       run playbooks/demo.yml twice against the embedded local services"
	@echo "make test       run every test (ends with pytest's summary line)"
	@echo "make lint       static checks only: ansible-test sanity, antsibull-docs lint, ansible-lint"
	@echo "make units | integration | molecule   one group of tests"
	@echo "make docs       HTML documentation into docs/build/html"
	@echo "make bench      run the benchmarks under benchmarks/"
	@echo "make clean      remove build output (make distclean also removes .venv)"

$(BIN)/bindep:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q bindep

# System packages (bindep.txt, profile "test"): checked on every run, installed when missing.
sysdeps: $(BIN)/bindep
	tools/install_sysdeps.sh $(BIN)/bindep

$(VENV)/.installed: tests/requirements.txt requirements.txt | sysdeps
	$(BIN)/pip install -q -r tests/requirements.txt
	touch $@

venv: sysdeps $(VENV)/.installed

collection:
	$(BIN)/python tools/sync_collection.py --dest $(COLL)

test: venv collection
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

lint: venv collection
	$(BIN)/python -m pytest tests/quality $(PYTEST_ARGS)

sanity: venv collection
	$(BIN)/python -m pytest tests/quality -k sanity $(PYTEST_ARGS)

docs-lint: venv collection
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

docs: venv collection
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
