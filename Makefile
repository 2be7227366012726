# Haat: `make run` serves the shop, `make test` runs every test. Nothing else to install by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_PIN := uv==0.13.9
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

export UV_PYTHON_DOWNLOADS := never
export UV_SYSTEM_CERTS := 1
export UV_LINK_MODE := copy

.PHONY: help setup run test lint prod seed bench clean

help:
	@echo "make run    set up everything and serve the shop on http://$(HOST):$(PORT)"
	@echo "make test   run the whole test suite (SQLite + PostgreSQL, browser, lint, types)"
	@echo "make prod   run in production mode (gunicorn, DEBUG off); needs SECRET_KEY, ALLOWED_HOSTS"
	@echo "make bench  benchmark in production mode on 127.0.0.1 (ARGS=--quick for a short run)"

# uv is installed into ./.tools, so no global tool is needed (pip comes with Python).
$(UV):
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(TOOLS) $(UV_PIN) \
		|| { echo "Could not install uv with '$(PYTHON) -m pip'. Python 3.12+ with pip is required."; exit 1; }

.venv/.synced: $(UV) pyproject.toml uv.lock
	@$(UV) sync --locked --quiet
	@touch $@

setup: .venv/.synced

seed: setup
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py seed_demo

run: seed
	@echo "Haat is starting on http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	@$(PY) scripts/run_tests.py $(ARGS)

lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy .

# Background work with REDIS_URL set (README: Background work). Without REDIS_URL, `make run`
# and `make prod` run the periodic jobs inside the web process and need neither.
.PHONY: worker beat
worker: setup
	@.venv/bin/celery -A haat worker -l INFO

beat: setup
	@.venv/bin/celery -A haat beat -l INFO

prod: setup
	@HAAT_ENV=production $(PY) manage.py check --deploy --fail-level WARNING
	@HAAT_ENV=production $(PY) manage.py migrate --noinput -v0
	@HAAT_ENV=production $(PY) manage.py collectstatic --noinput -v0
	@HAAT_ENV=production .venv/bin/gunicorn haat.wsgi --bind $(HOST):$(PORT) \
		--workers $${WEB_CONCURRENCY:-$$(( $$(nproc) * 2 + 1 ))} --access-logfile -

bench: setup
	@$(PY) bench/run.py $(ARGS)

clean:
	rm -rf .venv .tools staticfiles
