# Two entry points on a fresh machine: `make run` and `make test`.
# Both create .venv and install the project into it; the stamp makes reinstalling idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?= 2

.PHONY: run test build validate lint format bench clean

# Comunica for the client matrix (tests/test_clients_comunica.py): the exact versions of
# tests/clients/comunica/package-lock.json, installed into .node/ beside .venv (npm ci).
NODE_DIR   := .node
NODE_SRC   := tests/clients/comunica
NODE_STAMP := $(NODE_DIR)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NODE_STAMP): $(NODE_SRC)/package.json $(NODE_SRC)/package-lock.json
	mkdir -p $(NODE_DIR)
	cp $(NODE_SRC)/package.json $(NODE_SRC)/package-lock.json $(NODE_DIR)/
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The base defaults to the address `make run` serves on, so every IRI dereferences locally.
BASE   ?= http://$(HOST):$(PORT)/

build: $(STAMP)
	$(BIN)/publisher build --base $(BASE)

validate: $(STAMP)
	$(BIN)/publisher validate

run: build
	$(BIN)/publisher serve --host $(HOST) --port $(PORT) --workers $(WORKERS)


# pytest exits 5 when it collects nothing; any non-zero exit fails `make test`.
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check publisher tests bench
	$(BIN)/ruff format --check publisher tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix publisher tests bench
	$(BIN)/ruff format publisher tests bench

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf dist dist.* .pytest_cache
