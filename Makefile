# Two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The lock: every direct and transitive dependency at an exact version with its hashes, made
# by uv (`make lock`). uv is pinned here and installed into the venv by pip; it then installs
# exactly the lock (`uv pip sync` removes anything else) and the project itself without deps.
# --compile-bytecode: uv writes no .pyc by default, and with PYTHONDONTWRITEBYTECODE set (as
# on some CI machines) every process would compile vectorbt, pandas and numba from source.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
LOCK := requirements.lock
LOCK_ARGS := --extra dev --generate-hashes --universal --python-version 3.11

.PHONY: demo test bench reliability lint format lock test-latest test-lowest clean chromium \
	extract-eval

$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refresh the lock on purpose: the newest versions that pyproject.toml's ranges allow.
lock:
	test -x $(UV) || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv==$(UV_VERSION); }
	$(UV) pip compile pyproject.toml $(LOCK_ARGS) --upgrade --quiet -o $(LOCK)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP) chromium lint
	$(BIN)/python -m pytest -q

# The same suite against the newest versions pyproject.toml allows (test-latest), or the
# lowest ones its ranges name (test-lowest: checks that the ranges are true), in a throwaway
# venv. Not part of CI: it tells early what the next `make lock` would break.
test-latest: RESOLUTION := highest
test-lowest: RESOLUTION := lowest-direct
test-latest test-lowest: $(STAMP) chromium
	rm -rf .venv-$@
	$(UV) pip compile pyproject.toml --extra dev --resolution $(RESOLUTION) --quiet \
	  --python-version 3.11 -o .venv-$@.txt
	$(UV) venv --quiet --python $(BIN)/python .venv-$@
	$(UV) pip sync --quiet --compile-bytecode --python .venv-$@/bin/python .venv-$@.txt
	$(UV) pip install --quiet --python .venv-$@/bin/python --no-deps --no-build-isolation -e .
	grep -iE '^(pandas|numpy|vectorbt|numba|yfinance|curl-cffi|exchange-calendars|pydantic)==' \
	  .venv-$@.txt | tr '\n' ' '; echo
	.venv-$@/bin/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	  rm -rf .venv-$@ .venv-$@.txt; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .venv-test-* .pytest_cache build *.egg-info

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The reliability suite's long profile (thousands of fuzz cases, more kills); writes
# docs/RELIABILITY.md. `make test` runs its quick profile.
reliability: $(STAMP)
	$(BIN)/python scripts/reliability_report.py --profile long

# How well `tracker recs extract` reads real notes: ../shared/reports/corpus (docs + expected).
extract-eval: $(STAMP)
	$(BIN)/python scripts/extract_eval.py $(if $(V),-v)
