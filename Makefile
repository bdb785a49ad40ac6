# Gatekeeper: `make run` serves it on 127.0.0.1:7843, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

.PHONY: run test lint format migrate demo bench clean help

help:
	@echo "make run    - install, migrate, load deploy/demo.yaml, serve on http://127.0.0.1:7843/"
	@echo "make test   - the whole test suite (SQLite unless DATABASE_URL/REDIS_URL are set)"
	@echo "make lint   - ruff check and ruff format --check"
	@echo "make bench  - decision cost as a ratio to a baseline measured in the same run"
	@echo "make format - ruff format and ruff check --fix"

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# A local .env with fresh secrets, written once and never committed (.gitignore has it).
.env: | $(VENV)/.runtime
	@$(PY) -c 'import secrets; from cryptography.fernet import Fernet; \
	print("SECRET_KEY=" + secrets.token_urlsafe(50)); \
	print("GATEKEEPER_SECRET_KEYS=" + Fernet.generate_key().decode()); \
	print("GATEKEEPER_KEY_PEPPERS=" + secrets.token_urlsafe(32))' > .env
	@echo "Wrote .env with a new SECRET_KEY, GATEKEEPER_SECRET_KEYS and GATEKEEPER_KEY_PEPPERS (keep it secret)."

migrate: $(VENV)/.runtime .env
	mkdir -p var
	$(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input --verbosity 0

demo: migrate
	$(MANAGE) apply_config deploy/demo.yaml

run: demo
	@if [ -n "$$GATEKEEPER_ADMIN_PASSWORD" ]; then \
	  DJANGO_SUPERUSER_PASSWORD="$$GATEKEEPER_ADMIN_PASSWORD" $(MANAGE) createsuperuser \
	    --no-input --username admin --email admin@localhost 2>/dev/null \
	    && echo "Created superuser 'admin'." || echo "Superuser 'admin' already exists."; \
	else \
	  echo "No superuser yet? Run: $(MANAGE) createsuperuser (or set GATEKEEPER_ADMIN_PASSWORD)."; \
	fi
	@echo "Gatekeeper admin: http://127.0.0.1:7843/admin/"
	$(VENV)/bin/gunicorn --config deploy/gunicorn.conf.py gatekeeper_project.wsgi

test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.dev
	$(PY) -m bench.engine

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
