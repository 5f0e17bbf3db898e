# graphkit: `make demo` (set up + train a model), `make test` (set up + run the tests),
# `make docs` (check docstrings + build the documentation site into site/).
# Both create .venv on first use; nothing needs to be installed by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
# EXTENSIONS=0 skips the (optional, several-minute) torch-scatter/torch-sparse builds.
EXTENSIONS ?= 1

.PHONY: install demo test test-fast lint bench docs clean device-check

# The GPU check (scripts/device_check.sh): on the GPU machine as it is, no venv; DEVICE=cpu runs the same
# checks at toy sizes here (with the venv's python when there is one). Output: $OUT, else device-check-out/.
DEVICE ?= auto
device-check:
	PYTHON=$(if $(wildcard $(BIN)/python),$(BIN)/python,python3) scripts/device_check.sh --device $(DEVICE)

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	# Pin torch first: every later step sees it installed and keeps it.
	$(BIN)/pip install -q torch==$(TORCH_VERSION)
	$(BIN)/pip install -q -e ".[test,docs]"
	$(BIN)/graphkit info
	touch $@

# Optional compiled backends, built by `make test` / `make bench` (never on the demo's path: graphkit runs on
# its pure-torch path without them). ninja lets torch's extension builder compile in parallel, -g0 drops
# the debug info Python's flags ask for, and --no-build-isolation builds against the pinned torch: both
# builds take ~10 min on 2 cores without a cache (measured); pip caches the wheels, so later installs take
# seconds. EXTENSIONS=0 skips them.
$(VENV)/.extensions: $(VENV)/.installed
ifeq ($(EXTENSIONS),1)
	$(BIN)/pip install -q ninja
	CFLAGS=-g0 $(BIN)/pip install --no-build-isolation torch-scatter==2.1.2 \
	  || echo "WARNING: torch-scatter did not build; graphkit uses its pure-torch path"
	CFLAGS=-g0 $(BIN)/pip install --no-build-isolation torch-sparse==0.6.18 \
	  || echo "WARNING: torch-sparse did not build; graphkit uses its pure-torch path"
	$(BIN)/graphkit info
	touch $@
endif

install: $(VENV)/.installed

demo: install
	$(BIN)/python examples/gcn_cora.py

test: install $(VENV)/.extensions
	$(BIN)/python -m pytest

test-fast: install $(VENV)/.extensions
	$(BIN)/python -m pytest -m "not slow" -x -q

# ruff with pyproject.toml's settings (also a test: tests/test_lint.py); `make lint FIX=1` applies the safe fixes.
lint: install
	$(BIN)/python -m ruff check $(if $(FIX),--fix) graphkit tests scripts benchmarks examples

docs: install
	$(BIN)/python scripts/check_docstrings.py
	$(BIN)/mkdocs build --strict

bench: install $(VENV)/.extensions
	$(BIN)/python benchmarks/bench_conv.py

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache
