# Two entry points for a fresh machine with Python 3.11+ and make: `make run`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/xianghubao.toml
RESULTS  ?= results/xianghubao.h5

# `make test` runs the suite without the tests marked slow (golden checksums in both
# backends, the example analyses, Dask clusters, kill-and-resume): under 10 minutes on two
# cores. `make test SLOW=1` (what .ci/run calls) runs every test.
SLOW ?=
PYTEST_MARK := $(if $(SLOW),,-m "not slow")

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m engine.run.warm $(SCENARIO)
	touch $(STAMP)

run: $(STAMP)
	mkdir -p results
	$(BIN)/mutualsim run $(SCENARIO) --out $(RESULTS)
	$(BIN)/mutualsim plot $(RESULTS) --out results/plots
	$(BIN)/mutualsim summary $(RESULTS)

test: $(STAMP) lint
	$(BIN)/python -m pytest -q $(PYTEST_MARK)

# ruff (style) and import-linter (the layout's import rules, pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check engine tests benchmarks examples
	$(BIN)/lint-imports

# Every cache: results, test and lint caches, __pycache__ (the kernel's compiled code lives in
# engine/__pycache__/numba-cache, engine/jit_cache.py), and the kernel's folders elsewhere:
# under $NUMBA_CACHE_DIR where set, and the per-user fallbacks (shared with other checkouts).
clean:
	rm -rf results .pytest_cache .hypothesis .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
	if [ -n "$$NUMBA_CACHE_DIR" ]; then rm -rf "$$NUMBA_CACHE_DIR/mutualsim"; fi
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/mutualsim/numba" \
	       "$${TMPDIR:-/tmp}/mutualsim-numba-$${USER:-$${USERNAME:-user}}"

# Every measurement (`python -m benchmarks --list`): appends a record to
# benchmarks/results/bench.jsonl and writes the table into docs/benchmarks.md. Options through
# BENCH_ARGS, e.g. BENCH_ARGS="--previous a5c48f7" (today's kernel against the kernel before
# issue 15, as the series so far) or BENCH_ARGS="--only kernel,compile".
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)
