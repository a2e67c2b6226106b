# Two commands do all set-up on a fresh Debian machine:
#   make demo   a one-machine cluster with the todo app and a canary (see README)
#   make test   every test: lint, sanity, unit, and integration on a real multi-node Swarm
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/playbooks/collections

.PHONY: demo test host venv images lint sanity checks unit integration docs

host:
	scripts/install-host-packages.sh
	scripts/ensure-docker-engine.sh

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

images: host venv
	$(BIN)/python -m tests.harness images

demo: images
	scripts/demo.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs playbooks/collections/ansible_collections/sentinel/paas
	scripts/reference-docs.sh --check

# The collection's reference (every module, filter and role) in docs/reference, from their docs.
docs: venv
	scripts/reference-docs.sh

sanity: venv
	scripts/ansible-test-sanity.sh

unit: venv
	$(BIN)/pytest tests/unit

# The cluster tests mostly wait (rolling updates, health checks, Prometheus windows): two pytest
# workers, each with its own test Swarm, share the two cores (a third only made the CPU queue longer).
# A file's tests stay on one worker; files start longest first (tests/conftest.py).
PARALLEL := -n 2 --dist loadfile --no-loadscope-reorder

integration: images
	$(BIN)/pytest $(PARALLEL) tests/integration

# Lint and sanity each keep one core busy for a minute or more: side by side.
checks: venv
	$(MAKE) -j2 --output-sync=target lint sanity

# One pytest run over everything, so its summary line counts every test.
test: checks images
	mkdir -p reports
	$(BIN)/pytest $(PARALLEL) --junitxml=reports/junit.xml
