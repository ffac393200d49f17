# The two commands a new machine needs: `make run` and `make test`. Everything installs from the lock files.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DATA   ?= ../shared/data
BENCH_OUT ?= bench-out

.PHONY: run test check bench lock clean install install-dev browser load log-scale

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

# A stamp per lock file: reinstall only when the lock (or pyproject) changes.
$(VENV)/.runtime-installed: requirements/runtime.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --no-deps --require-hashes -r requirements/runtime.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --no-deps --require-hashes -r requirements/dev.lock
	$(PIP) install --quiet --no-deps -e .
	touch $(VENV)/.runtime-installed $@

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

# A local keyring and SQLite database with a demo operator, outlet, one user per role and a number block.
run: install
	$(BIN)/realname keys init --if-missing
	$(BIN)/realname demo --if-empty
	$(BIN)/realname serve

# Debian's chromium and chromedriver for the browser tests, and a CJK font (screenshots and PDF reports show
# Chinese); when they cannot be installed (no root, no apt), the tests that need them skip with the reason.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-microhei
browser:
	@{ command -v chromium >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
	     { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1; }) \
	    || echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "chromium is not installed and cannot be installed here: the browser tests will be skipped"; fi; }

test: install-dev browser
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

check: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python benchmarks/run_all.py --data $(DATA) --out $(BENCH_OUT)

# The service under load on PostgreSQL (1, 2, 4 workers, then a SIGKILL mid-run): benchmarks/load.py.
load: install-dev
	$(BIN)/python benchmarks/load.py --out $(BENCH_OUT)/load

# The transparency log at scale on PostgreSQL (appends, signing, proofs, incremental checks at 100k/1M/10M events).
log-scale: install-dev
	$(BIN)/python benchmarks/log_scale.py --out $(BENCH_OUT)/log-scale

lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) $(BENCH_OUT) .pytest_cache .mypy_cache .ruff_cache
