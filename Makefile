# Two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The lock: every direct and transitive dependency at an exact version with its hashes, made
# by uv (`make lock`). uv is pinned here and installed into the venv by pip; it then installs
# exactly the lock (`uv pip sync` removes anything else) and the project itself without deps.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
LOCK := requirements.lock
LOCK_ARGS := --extra dev --generate-hashes --universal --python-version 3.11

.PHONY: demo test bench reliability lint format lock test-latest clean chromium extract-eval

$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes $(LOCK)
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

# The same suite against the newest versions pyproject.toml allows, in a throwaway venv.
# Not part of CI: it tells early what the next `make lock` would break.
LATEST := .venv-latest
test-latest: $(STAMP) chromium
	rm -rf $(LATEST)
	$(UV) venv --quiet --python $(BIN)/python $(LATEST)
	$(UV) pip install --quiet --python $(LATEST)/bin/python --upgrade -e '.[dev]'
	$(LATEST)/bin/python -m pip freeze 2>/dev/null | grep -iE '^(pandas|numpy|vectorbt|numba|yfinance|exchange.calendars|pydantic|typer)==' || true
	$(LATEST)/bin/python -m pytest -q -p no:cacheprovider; rc=$$?; rm -rf $(LATEST); exit $$rc

# The scorecard's rendering test draws the HTML with headless Chromium, and Chinese names need
# a CJK font (for Chromium and for the chart's labels). Install Debian's packages when missing and
# this is root with apt; never fail the build over it (the test then skips with a message, except
# under CI=true where it fails).
CHROMIUM_PACKAGES := chromium fonts-wqy-zenhei
chromium:
	@{ command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } \
	  && { ! command -v fc-list >/dev/null 2>&1 || [ -n "$$(fc-list :lang=zh 2>/dev/null)" ]; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM_PACKAGES) >/dev/null) \
	      || echo "make: could not install $(CHROMIUM_PACKAGES); the HTML rendering test will not run"; \
	  else \
	    echo "make: chromium or a CJK font is missing (installing needs root and apt); the HTML rendering test will not run"; \
	  fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(LATEST) .pytest_cache build *.egg-info

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The reliability suite's long profile (thousands of fuzz cases, more kills); writes
# docs/RELIABILITY.md. `make test` runs its quick profile.
reliability: $(STAMP)
	$(BIN)/python scripts/reliability_report.py --profile long

# How well `tracker recs extract` reads real notes: ../shared/reports/corpus (docs + expected).
extract-eval: $(STAMP)
	$(BIN)/python scripts/extract_eval.py $(if $(V),-v)
