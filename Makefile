# Guichet: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# the address the demo calls itself by (its identity provider's issuer): loopback even when bound to all interfaces
PUBLIC_HOST := $(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST))
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
PLUGIN_ARGS := $(foreach dir,$(PLUGIN_DIRS),-e ./$(dir))

.PHONY: run test bench lint catalogues check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Guichet needs Python 3.11 or newer (found: $$($(PYTHON) --version 2>&1)). Set PYTHON=python3.x."; exit 1; }

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The core and every plugin under plugins/, editable; refreshed when a pyproject changes.
$(VENV)/.installed-run: pyproject.toml $(wildcard plugins/*/pyproject.toml) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . $(PLUGIN_ARGS)
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(wildcard plugins/*/pyproject.toml) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(PLUGIN_ARGS)
	@touch $@ $(VENV)/.installed-run

## Serve the demo syndicate at http://$(HOST):$(PORT) on SQLite (var/guichet.db), its background worker beside it.
run: export GUICHET_PUBLIC_BASE_URL = http://$(PUBLIC_HOST):$(PORT)
run: $(VENV)/.installed-run
	$(BIN)/guichet db upgrade
	$(BIN)/guichet demo seed
	@# agents' activity on 60 demo requests, once (delete var/ to start the demo afresh)
	@test -f var/.demo-activity || { $(BIN)/guichet demo seed --requests 60 && touch var/.demo-activity; }
	$(BIN)/guichet serve --host $(HOST) --port $(PORT)

## Run every test, core and plugins (PostgreSQL ones need GUICHET_TEST_DATABASE_URL), on TEST_WORKERS
## pytest-xdist workers, each test file whole on one worker: one a core, at most 4 (each worker holds a few
## PostgreSQL connections and a Chromium at times; the server allows 100). TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 2 ? 0 : n < 4 ? n : 4 )))
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## Benchmarks: each case against its baseline in the same run, printed as ratios.
## The HTTP ones (wrk against uvicorn) run last: the last line is the SQLite filing ratio at 32 clients.
bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null 2>&1 || { echo "make bench needs wrk, the HTTP load generator: apt-get install wrk (Debian/Ubuntu)"; exit 1; }
	$(BIN)/python -m bench.bench_gateway
	$(BIN)/python -m bench.bench_audit
	$(BIN)/python -m bench.bench_requests
	$(BIN)/python -m bench.bench_startup
	$(BIN)/python -m bench.bench_http

## After changing a template's texts: the template catalogue extracted again, the English one updated from it
## (then translate the new entries and clear their "fuzzy" flags; tests/test_translations.py checks both files).
catalogues: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg --project=Guichet --version=0.1.0 --copyright-holder="Guichet contributors" \
	  --sort-by-file -o gateway/translations/messages.pot gateway/web/templates
	$(BIN)/pybabel update -i gateway/translations/messages.pot -d gateway/translations -l en

lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check gateway plugins tests bench
	$(BIN)/mypy gateway

clean:
	rm -rf $(VENV) var/guichet.db var/guichet.db-wal var/guichet.db-shm
