# One entry point for people and CI. `make demo` runs the local demo; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint unit integration crds clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

system-deps:
	bash hack/system-deps.sh $(SYSTEM_DEPS_FLAGS)

install: system-deps $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'

demo: install
	$(BIN)/rollouts demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

# The README's test command: lint, type checks, import contracts, unit and integration tests.
test: SYSTEM_DEPS_FLAGS = --with-browser
test: lint
	$(BIN)/pytest tests

crds: install
	$(BIN)/rollouts crds generate

clean:
	-$(BIN)/rollouts dev-cluster down
	rm -rf $(VENV) .devcluster
