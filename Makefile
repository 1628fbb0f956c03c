# Fresh machine: `make demo` (install + run the demo) and `make test` (install + run the tests).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch for the neural synthesizers: the CPU build first, so pip never pulls a CUDA one
	$(PY) -m pip install --quiet 'torch==2.13.0'
	$(PY) -m pip install --quiet -e '.[dev,deep,scale,service,llm,docs]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/synthcust demo --out demo_out

test: lint
	$(PY) -m pytest -q --durations=15

# style, the layer contract (pyproject.toml [tool.importlinter]) and the core packages' types
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests $(wildcard bench)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# the documentation site, built strictly (any warning fails)
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

# SDV needs torch: install the CPU build first so pip never pulls a multi-GB CUDA one
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet torch==2.13.0
	$(BENCH_VENV)/bin/pip install --quiet -e '.[bench]' 'sdv==2.0.0' 'sdmetrics>=0.32'
	touch $(BENCH_VENV)/.installed

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/bench_copula.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) demo_out site .pytest_cache .mypy_cache
