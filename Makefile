# Everything runs from the project's own virtual environment, created on first use.
# The install is redone only when a dependency file changes (the stamp carries their hash).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_HASH := $(shell cat pyproject.toml setup.py | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(DEPS_HASH)

.PHONY: install demo test test-slow bench docs docs-serve clean

install: $(STAMP)

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/garden demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Every benchmark, one table, results/bench.json (11 minutes on 2 shared CPU cores). The bench
# extra adds PyTorch (the torch-backend and torchvision rows); without it they are skipped.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The docs extra installs on top of the test environment, stamped the same way.
DOCS_STAMP := $(VENV)/.docs-$(DEPS_HASH)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	rm -f $(VENV)/.docs-*
	touch $@

docs: $(DOCS_STAMP)
	DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict

docs-serve: $(DOCS_STAMP)
	DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) build site *.egg-info
