# The two commands a newcomer runs: `make demo` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Pinned installs: requirements.lock names every package (runtime and the test extra, plus setuptools to build the
# project) at one version with its hashes; `make lock` refreshes it. uv rather than pip-tools: `uv pip compile
# --universal` writes one lock that holds for every Python we allow (>= 3.11) on any platform, where pip-compile
# resolves only for the interpreter it runs on; and it resolves in seconds. pip installs the lock: uv is only needed
# by `make lock`, in a venv of its own at this version.
LOCK := requirements.lock
UV_VERSION := 0.13.9
UV := $(VENV)-lock/bin/uv
# `make lock UPGRADE=` keeps the current pins and only resolves what pyproject.toml changed.
UPGRADE ?= --upgrade

# `make test` lints first; `make test LINT=` leaves lint out (while its findings are being cleared).
LINT ?= lint
# pytest-xdist processes. Many tests wait on processes they start (Celery workers, redis-server, the SendGrid
# server, Chromium), so more than the cores pay. Measured on 2 cores, seconds of pytest: 1 process 199, 2 → 107,
# 3 → 79-92, 4 → 71-77 (up to 140 while other test runs shared the machine), 5 → 77-105, 6 → 84.
# `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 4

.PHONY: demo test lint system-parts lock bench bench-audience install clean

# A new lock or pyproject.toml rebuilds the venv from scratch, so nothing the lock no longer names lingers.
$(BIN)/outreach: $(LOCK) pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/outreach

demo: install
	$(BIN)/outreach demo

test: install $(LINT) system-parts
	$(BIN)/pytest -n $(TEST_WORKERS)

# All four run, so one pass shows every finding; the target fails if any of them did.
lint: install
	@status=0; \
	for check in "ruff check --output-format concise ." "ruff format --check --output-format concise ." \
		"mypy" "lint-imports"; do \
		echo "== $$check"; $(BIN)/$$check || status=1; \
	done; exit $$status

# Debian's chromium, redis-server, spamassassin and PostgreSQL's server programs: installed when missing (as root).
system-parts:
	bash tests/system_parts.sh

$(UV):
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet uv==$(UV_VERSION)

lock: $(UV)
	echo 'setuptools>=68' | $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes $(UPGRADE) \
		--custom-compile-command 'make lock' --extra test -o $(LOCK) pyproject.toml -

bench: install
	$(BIN)/python -m bench.run

bench-audience: install
	$(BIN)/python -m bench.audience

clean:
	rm -rf $(VENV) $(VENV)-lock var
