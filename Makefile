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
# Python keeps the bytecode it compiles (__pycache__/, ignored by git), whatever the machine's
# environment says: without it every process compiles Django and the shop again, 2 s of CPU
# each (a `manage.py check` takes 3.0 s instead of 1.1 s), and `make test` starts hundreds.
unexport PYTHONDONTWRITEBYTECODE

# make prod's server: granian with Django's WSGI handler. granian reads every request's headers and
# body in its own (Rust) event loop before a Python thread runs the view, so slow clients cannot
# starve the workers; and WSGI costs a quarter less CPU per request than ASGI, as little as
# gunicorn (bench/floor.py, README: Benchmarks). Headers must arrive within 10 s. Each worker runs
# the views one request at a time.
WEB_CONCURRENCY ?= $(shell echo $$(( $$(nproc) * 2 + 1 )))

# make prod-local: production mode on plain HTTP on this machine, to try it out; never on a
# public server. Its own data directory; the checks it silences, each on purpose:
#   security.W008 no redirect to HTTPS, security.W012 and security.W016 cookies sent over
#   plain HTTP, haat.E001 the test payment gateway (ALLOW_TEST_PAYMENTS_IN_PRODUCTION).
# Mails (sign-up links, password resets, orders) are printed to the terminal, as no SMTP server
# is needed to try it: mail.E001 (a development mail backend) is silenced for that.
PROD_LOCAL_ENV := SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false \
	PAYMENT_GATEWAY=test ALLOW_TEST_PAYMENTS_IN_PRODUCTION=true EMAIL_BACKEND=console \
	SILENCED_SYSTEM_CHECKS=security.W008,security.W012,security.W016,haat.E001,mail.E001

.PHONY: help setup run port-free test lint prod prod-local seed bench lighthouse clean

help:
	@echo "make run    set up everything and serve the shop on http://$(HOST):$(PORT)"
	@echo "make test   run the whole test suite (SQLite + PostgreSQL, browser, lint, types)"
	@echo "make prod   run in production mode (granian, DEBUG off); needs SECRET_KEY, ALLOWED_HOSTS"
	@echo "make prod-local  production mode on plain HTTP with test payments, to try it locally"
	@echo "make lighthouse  Lighthouse scores (mobile, desktop) of the main pages in production mode"
	@echo "make bench  benchmark in production mode on 127.0.0.1 (ARGS=--quick for a short run)"
	@echo "make cluster       NODES=3 app nodes behind HAProxy on http://127.0.0.1:8080 (PostgreSQL, Redis)"
	@echo "make test-cluster  the cluster tests: flash sale, node, Redis and worker failures, shared sessions"

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
	@$(PY) manage.py product_image_variants

# The port is checked first, so a taken port is said before anything is migrated or seeded.
port-free:
	@$(PYTHON) scripts/port_free.py $(HOST) $(PORT)

run: port-free seed
	@echo "Haat is starting on http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@$(PY) manage.py runserver $(HOST):$(PORT)

# Beyond Python, the tests need Chromium and Node (installed from Debian's packages when
# missing and run as root; otherwise the script names what to install).
test: setup
	@scripts/test_prerequisites.sh chromium nodejs npm
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

prod: setup port-free
	@HAAT_ENV=production $(PY) manage.py check --deploy --fail-level WARNING
	@HAAT_ENV=production $(PY) manage.py migrate --noinput -v0
	@HAAT_ENV=production $(PY) manage.py product_image_variants
	@HAAT_ENV=production $(PY) manage.py collectstatic --noinput -v0
	@HAAT_ENV=production exec .venv/bin/granian --interface wsgi haat.wsgi:application \
		--host $(HOST) --port $(PORT) --workers $(WEB_CONCURRENCY) --no-ws \
		--http1-header-read-timeout 10000 --workers-kill-timeout 30 --access-log

prod-local:
	@env HAAT_DATA_DIR=$${HAAT_DATA_DIR:-data/prod-local} $(PROD_LOCAL_ENV) $(MAKE) --no-print-directory prod

bench: setup
	@$(PY) bench/floor.py $(ARGS)
	@$(PY) bench/run.py $(ARGS)
	@$(PY) bench/cluster_bench.py $(ARGS)

# Lighthouse from npm (tools/lighthouse, pinned in its package-lock.json) with Debian's Chromium.
lighthouse: setup
	@scripts/test_prerequisites.sh chromium nodejs npm
	@cd tools/lighthouse && { [ -x node_modules/.bin/lighthouse ] || npm ci --no-audit --no-fund --silent; }
	@$(PY) scripts/lighthouse.py $(ARGS)

clean:
	rm -rf .venv .tools staticfiles

# --- Cluster: N app nodes behind HAProxy on this machine (scripts/cluster.py) --------------
NODES ?= 3
.PHONY: cluster test-cluster

cluster: setup
	@$(PY) scripts/cluster.py --nodes $(NODES) $(ARGS)

test-cluster: setup
	@scripts/test_prerequisites.sh haproxy redis-server
	@$(PY) -m pytest tests/cluster -m cluster -p no:cacheprovider $(ARGS)
