# The two commands a newcomer runs: `make demo` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench install clean

$(BIN)/outreach: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/outreach

demo: install
	$(BIN)/outreach demo

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var
