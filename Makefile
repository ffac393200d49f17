# The two commands a new machine needs: `make run` and `make test`. Everything installs from the lock files.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DATA   ?= ../shared/data
BENCH_OUT ?= bench-out

.PHONY: run test check bench lock clean install install-dev

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

test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

check: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: install-dev
	$(BIN)/python benchmarks/run_all.py --data $(DATA) --out $(BENCH_OUT)

lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) $(BENCH_OUT) .pytest_cache .mypy_cache .ruff_cache
