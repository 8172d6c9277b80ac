# Relationship Health — `make run` serves the demo; `make test` runs the whole suite.
# Both do every set-up step first, so they work on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
ASSETS := survey_app/static/govuk-frontend.min.css
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard survey_app/translations/*/LC_MESSAGES/messages.po))
PG_URL ?= $(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL),postgresql+psycopg://postgres@127.0.0.1:5432/test)

.PHONY: run test setup assets browser poppler migrate demo lint test-sqlite test-postgres clean

# The web server (gunicorn) and one job worker, under a small supervisor: Ctrl+C stops both.
run: setup migrate
	$(BIN)/relhealth demo
	@echo "Serving on http://127.0.0.1:5000 with one job worker (Ctrl+C stops both)"
	$(PY) scripts/run.py

setup: $(STAMP) $(ASSETS) $(CATALOGUES)

# Welsh (and any other language): compiled message catalogues (survey_app/web/languages.py).
survey_app/translations/%/LC_MESSAGES/messages.mo: survey_app/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	rm -rf survey_app/static/fonts survey_app/static/images
	cp -R node_modules/govuk-frontend/dist/govuk/assets/fonts node_modules/govuk-frontend/dist/govuk/assets/images survey_app/static/
	cp node_modules/govuk-frontend/dist/govuk/assets/manifest.json survey_app/static/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js survey_app/static/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css $(ASSETS)

# The browser tests drive Debian's Chromium (Playwright cannot download its own here):
# installed with apt when missing and we are root; otherwise those tests are skipped, and say so.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "== Installing Chromium for the browser tests (apt-get install chromium) =="; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
			&& test -x "$(CHROMIUM)"; \
	else \
		echo "== Chromium is missing at $(CHROMIUM) and only root can install it (apt-get install chromium): the browser tests will be SKIPPED =="; \
	fi

# The board pack's tests read its PDF with poppler (pdftotext, pdftoppm): installed with apt
# when missing and we are root; otherwise those tests are skipped (a failure in CI), and say so.
PDFTOTEXT ?= /usr/bin/pdftotext
poppler:
	@if [ -x "$(PDFTOTEXT)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "== Installing poppler-utils for the board pack tests (apt-get install poppler-utils) =="; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null \
			&& test -x "$(PDFTOTEXT)"; \
	else \
		echo "== poppler-utils is missing ($(PDFTOTEXT)) and only root can install it (apt-get install poppler-utils): the board pack tests will be SKIPPED =="; \
	fi

migrate: setup
	$(BIN)/relhealth db upgrade

demo: migrate
	$(BIN)/relhealth demo

lint: setup
	$(BIN)/ruff check .

# The suite runs on SQLite and on PostgreSQL side by side (tests/run_passes.py: each pass has its
# own database; output is prefixed and kept in test-artifacts/; SEQUENTIAL=1 runs them one after
# the other). PostgreSQL is skipped with a warning when it does not answer, unless
# REQUIRE_POSTGRES is set (CI). The browser tests (markup, keyboard, axe, CSP: nothing
# database-specific) run in the SQLite pass only, and so do tests/analysis (pure statistics) and
# tests/instruments (instrument files), which open no database.
test: setup lint migrate browser poppler
	$(PY) tests/run_passes.py '$(PG_URL)'

# One pass alone (e.g. while working on one database's behaviour).
test-sqlite: setup migrate browser poppler
	DATABASE_URL= $(PY) -m pytest -q

test-postgres: setup migrate poppler
	DATABASE_URL='$(PG_URL)' $(PY) -m pytest -q -m "not browser" --ignore=tests/analysis --ignore=tests/instruments

clean:
	rm -rf $(VENV) node_modules survey_app/static/fonts survey_app/static/images survey_app/static/manifest.json survey_app/static/govuk-frontend.min.*
