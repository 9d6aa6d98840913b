# Two entry points on a fresh machine: `make run` and `make test`.
# Both create .venv and install the project into it; the stamp makes reinstalling idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?= 2

.PHONY: run test build validate lint format bench clean virtuoso

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


# Virtuoso Open Source for tests/test_store_virtuoso.py (Debian virtuoso-opensource): installed
# when virtuoso-t is missing and we are root with apt-get; never fails the make (the tests then
# skip, naming what is missing).
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing virtuoso-opensource (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends virtuoso-opensource >/dev/null) \
	      || echo "virtuoso-opensource could not be installed: its tests will be skipped"; \
	  else echo "virtuoso-t missing and not root with apt-get: its tests will be skipped"; fi; }

# pytest exits 5 when it collects nothing; any non-zero exit fails `make test`.
test: $(STAMP) $(NODE_STAMP) virtuoso
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
