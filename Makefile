# integration-hub — every target installs what it needs into .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install test lint demo ui clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check integration_hub integration_hub_tests

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python -m integration_hub.demo

ui: $(STAMP)
	HUB_HOME=$${HUB_HOME:-$(CURDIR)/.hub} DAGSTER_HOME=$${DAGSTER_HOME:-$${HUB_HOME:-$(CURDIR)/.hub}/dagster} \
	  $(BIN)/python -m integration_hub.ui

clean:
	rm -rf $(VENV) .hub .pytest_cache .ruff_cache *.egg-info
