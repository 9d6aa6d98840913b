# Two entry points on a fresh machine: `make run` and `make test`.
# Both create .venv and install the project into it; the stamp makes reinstalling idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?= 2

.PHONY: run test build validate lint format bench clean vendor browser-deps virtuoso

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

# The query editor: YASGUI's built bundle, vendored under publisher/static/vendor/yasgui/ and
# served by the app itself (no CDN; serving never needs npm). `make vendor` redoes it from the
# npm registry: this exact version, checked against the registry's integrity hash.
YASGUI_VERSION   := 4.6.2
YASGUI_INTEGRITY := sha512-Zw45KdPoAE1KRaAoxIHdQqeJxvaVG1oQdntw0hy0ktX35Zu8ZccuOLrXCLwR+GU+0xMzLw8Mjw6BkSZV2vUuQw==
YASGUI_DIR       := publisher/static/vendor/yasgui

vendor:
	rm -rf .vendor-tmp && mkdir -p .vendor-tmp
	cd .vendor-tmp && npm pack --silent @zazuko/yasgui@$(YASGUI_VERSION) > /dev/null
	cd .vendor-tmp && node -e 'const c=require("crypto"),f=require("fs");const t=f.readdirSync(".").find(n=>n.endsWith(".tgz"));const h="sha512-"+c.createHash("sha512").update(f.readFileSync(t)).digest("base64");if(h!==process.argv[1]){console.error("integrity mismatch: "+h);process.exit(1)}' '$(YASGUI_INTEGRITY)'
	cd .vendor-tmp && tar -xzf zazuko-yasgui-$(YASGUI_VERSION).tgz
	mkdir -p $(YASGUI_DIR)
	# The source-map comment is dropped: the maps are not vendored (browsers would ask for them).
	sed '/^\/\/# sourceMappingURL=/d' .vendor-tmp/package/build/yasgui.min.js > $(YASGUI_DIR)/yasgui.min.js
	cp .vendor-tmp/package/build/yasgui.min.css $(YASGUI_DIR)/yasgui.min.css
	printf '@zazuko/yasgui %s\n%s\n' '$(YASGUI_VERSION)' '$(YASGUI_INTEGRITY)' > $(YASGUI_DIR)/VERSION
	rm -rf .vendor-tmp

# Browser tests (tests/test_browser_*.py): Debian's chromium + chromium-driver, and java for the
# Nu HTML Checker, installed when missing and we are root (CI's fresh machine); elsewhere the
# tests skip and say why. axe-core and vnu-jar: the exact versions of
# tests/clients/browser/package-lock.json, in .node-browser/ (npm ci; vnu.jar ships in the
# package, so its install script, which would look for a java, is not run).
BROWSER_NODE_DIR   := .node-browser
BROWSER_NODE_SRC   := tests/clients/browser
BROWSER_NODE_STAMP := $(BROWSER_NODE_DIR)/.installed

$(BROWSER_NODE_STAMP): $(BROWSER_NODE_SRC)/package.json $(BROWSER_NODE_SRC)/package-lock.json
	mkdir -p $(BROWSER_NODE_DIR)
	cp $(BROWSER_NODE_SRC)/package.json $(BROWSER_NODE_SRC)/package-lock.json $(BROWSER_NODE_DIR)/
	cd $(BROWSER_NODE_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(BROWSER_NODE_STAMP)

browser-deps: $(BROWSER_NODE_STAMP)
	@if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null || ! command -v java >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver default-jre-headless \
	      || echo "browser-deps: apt-get install failed; the browser tests will skip"; \
	  else echo "browser-deps: chromium/chromedriver/java missing and not root; the browser tests will skip"; fi; \
	fi

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
test: $(STAMP) $(NODE_STAMP) browser-deps virtuoso
	$(BIN)/ruff check publisher tests bench
	$(BIN)/ruff format --check publisher tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix publisher tests bench
	$(BIN)/ruff format publisher tests bench

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf dist dist.* .pytest_cache .vendor-tmp
