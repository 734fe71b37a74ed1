# Set-up and the two README commands. Each target creates the virtual environment on first use.
# TORCH picks the torch build installed before the project: the default is the CPU wheel this
# project's CI machines carry; on a GPU machine use e.g. `make test TORCH=torch`.
VENV ?= .venv
TORCH ?= torch==2.13.0
PYTHON ?= python3
OUT ?= runs/quickstart
# THREADS=N sets torch's CPU threads for the quickstart jobs and the tests (empty: genrl's default of 1
# for the jobs, torch's for the tests).
THREADS ?=
# JOBS: pytest-xdist worker processes for the tests (logical: one per logical CPU). Each test runs torch
# single-threaded (tests/conftest.py), so two workers on 2 cores took the suite from 12 min 56 s to 8 min 34 s.
JOBS ?= logical

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q "$(TORCH)"
	$(VENV)/bin/python -m pip install -q -e ".[dev]"
	touch $@

.PHONY: install quickstart test test-fast lint type format docs dist-check gpu-check
install: $(VENV)/.installed

quickstart: $(VENV)/.installed
	$(VENV)/bin/genrl quickstart --out $(OUT) --overwrite $(if $(THREADS),--threads $(THREADS))

test: $(VENV)/.installed
	$(if $(THREADS),OMP_NUM_THREADS=$(THREADS) )$(VENV)/bin/python -m pytest -q -n $(JOBS)

# Skips the tests marked slow (long-running quality checks); for the edit-test loop, not for CI.
test-fast: $(VENV)/.installed
	$(if $(THREADS),OMP_NUM_THREADS=$(THREADS) )$(VENV)/bin/python -m pytest -q -n $(JOBS) -m "not slow"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check genrl tests experiments envs
	$(VENV)/bin/ruff format --check genrl tests experiments envs

type: $(VENV)/.installed
	$(VENV)/bin/mypy genrl envs

# The documentation site (user guide, CLI and API reference, results) into site/; warnings fail it.
docs: $(VENV)/.installed
	$(VENV)/bin/mkdocs build --strict -q -d site

# The sdist, the wheel built from it, installed into a fresh virtual environment and run outside the checkout.
dist-check: $(VENV)/.installed
	TORCH="$(TORCH)" .ci/dist-check $(VENV)/bin/python

# Rewrites files in place: the formatter first, then the lint fixes ruff can make safely.
format: $(VENV)/.installed
	$(VENV)/bin/ruff format genrl tests experiments envs
	$(VENV)/bin/ruff check --fix genrl tests experiments envs

# On a CUDA machine: the cuda-marked tests and a short GPU benchmark into results/gpu_check.json;
# elsewhere it says there is no CUDA device and exits 0.
gpu-check: $(VENV)/.installed
	$(VENV)/bin/python experiments/gpu_check.py --out results/gpu_check.json
