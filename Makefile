# Two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench reliability lint clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

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

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The reliability suite's long profile (thousands of fuzz cases, more kills); writes
# docs/RELIABILITY.md. `make test` runs its quick profile.
reliability: $(STAMP)
	$(BIN)/python scripts/reliability_report.py --profile long
