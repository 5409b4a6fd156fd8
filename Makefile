# integration-hub — every target installs what it needs into .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_ARGS ?=
PYTEST_ARGS ?=

CHROMIUM := /usr/bin/chromium

.PHONY: install system-deps test lint demo ui bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# System packages the suite needs, installed before it runs (never by a test): Debian's Chromium for the browser
# test. Waits up to 10 minutes for an apt lock another process holds instead of failing on it.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser test needs Debian's chromium package at $(CHROMIUM)"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq install chromium >/dev/null

system-deps: $(CHROMIUM)

lint: $(STAMP)
	$(BIN)/ruff check integration_hub integration_hub_tests bench

test: lint system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python -m integration_hub.demo

# Benchmarks (not part of `make test`): the bench extra (dlt, DuckDB, matplotlib, psutil), then every benchmark;
# writes bench/results.md and bench/plots/*.png, exits non-zero naming any missed target. BENCH_ARGS=--quick for a
# fast check of the harness. BENCH_ARGS=--scale runs only the scale pass (100 → 10,000 companies, both layouts, SQLite
# and PostgreSQL instances; at most 20 minutes) into bench/results-scale.md and results.md's "6. Scale" block.
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

ui: $(STAMP)
	HUB_HOME=$${HUB_HOME:-$(CURDIR)/.hub} DAGSTER_HOME=$${DAGSTER_HOME:-$${HUB_HOME:-$(CURDIR)/.hub}/dagster} \
	  $(BIN)/python -m integration_hub.ui

clean:
	rm -rf $(VENV) .hub .pytest_cache .ruff_cache *.egg-info
