# Two commands: `make run` sets everything up and serves; `make test` sets up and runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
IDP := $(VENV)/bin/idp
STAMP := $(VENV)/.installed
ASSETS := idp/static/nhsuk/VERSION
PYTEST_ARGS ?=
# The demo relying party's port: `idp demo load` registers its URIs there and scripts/serve.sh serves it there.
export DEMO_RP_PORT ?= 5001

.PHONY: run test setup install assets browser db test-sqlite test-postgres benchmark clean

run: setup
	@bash scripts/serve.sh

test: install assets browser
	@bash scripts/test.sh $(PYTEST_ARGS)

setup: install assets db

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

assets: $(ASSETS)

# Debian's Chromium for the browser tests (Playwright drives it; its own browser download is unreachable).
browser:
	@bash scripts/install-browser.sh

$(ASSETS): package.json package-lock.json scripts/install-frontend.sh
	@bash scripts/install-frontend.sh

db: install
	$(IDP) db upgrade
	$(IDP) keys init
	$(IDP) demo load
	$(IDP) pds load idp/proofing/data/synthetic-pds.ndjson

test-sqlite: install assets browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install assets
	@bash scripts/with-postgres.sh $(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

benchmark: setup
	$(PY) benchmarks/sso_flow.py

clean:
	rm -rf $(VENV) node_modules idp/static/nhsuk instance .pytest_cache
