# Gatekeeper: `make run` serves it on 127.0.0.1:7843, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

.PHONY: run test sdk-test sdk-vectors lint format migrate demo bench config-schema clean help

help:
	@echo "make run    - install, migrate, load deploy/demo.yaml into a new database, serve the"
	@echo "             admin on 127.0.0.1:7843, the decision server on 127.0.0.1:7844 and the"
	@echo "             webhook worker"
	@echo "make demo   - apply deploy/demo.yaml to the database as it is"
	@echo "make test   - the whole test suite (SQLite unless DATABASE_URL/REDIS_URL are set)"
	@echo "make sdk-test - the client libraries' own tests: pytest, node --test, go test"
	@echo "make sdk-vectors - rewrite sdk/testdata/vectors.json from Gatekeeper's verifier"
	@echo "make lint   - ruff check and ruff format --check"
	@echo "make bench  - what a decision costs, as ratios measured in one run (README, Performance);"
	@echo "             BENCH_ARGS='--rounds 5' for the README's table, '--admin' adds the admin pages"
	@echo "make format - ruff format and ruff check --fix"
	@echo "make config-schema - rewrite deploy/schema/gatekeeper-config.schema.json (for editors)"

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# A local .env with fresh secrets, written once and never committed (.gitignore has it).
# Only its owner may read it (umask 077: created 0600).
.env: | $(VENV)/.runtime
	@umask 077; $(PY) -c 'import secrets; from cryptography.fernet import Fernet; \
	print("SECRET_KEY=" + secrets.token_urlsafe(50)); \
	print("GATEKEEPER_SECRET_KEYS=" + Fernet.generate_key().decode()); \
	print("GATEKEEPER_KEY_PEPPERS=" + secrets.token_urlsafe(32))' > .env
	@echo "Wrote .env with a new SECRET_KEY, GATEKEEPER_SECRET_KEYS and GATEKEEPER_KEY_PEPPERS (keep it secret)."

# var/ holds the SQLite database: only its owner may enter it or read what it holds. SQLite
# creates the database with the umask's mode (and its journal files with the database's), so
# migrate runs under umask 077; the chmods tighten files an older `make run` left 0644.
migrate: $(VENV)/.runtime .env
	@install -d -m 0700 var
	@chmod 0600 .env
	@find var -maxdepth 1 -type f -exec chmod 0600 {} +
	umask 077 && $(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input --verbosity 0

# Apply deploy/demo.yaml to whatever database there is (make run loads it into a new one only).
demo: migrate
	umask 077 && $(MANAGE) apply_config deploy/demo.yaml

# The demo goes into a new database only: one that had no migration applied before this run.
# Applying it on every start would undo what staff changed since (a suspended demo client
# active again, a revoked key replaced, a revoked method back).
run: $(VENV)/.runtime .env
	@install -d -m 0700 var
	@set -e; umask 077; \
	applied="$$($(MANAGE) showmigrations --plan)"; \
	$(MAKE) --no-print-directory migrate; \
	case "$$applied" in \
	  *"[X]"*) echo "The database already existed: deploy/demo.yaml was not applied (make demo applies it)." ;; \
	  *) $(MANAGE) apply_config deploy/demo.yaml ;; \
	esac
	@if [ -n "$$GATEKEEPER_ADMIN_PASSWORD" ]; then \
	  DJANGO_SUPERUSER_PASSWORD="$$GATEKEEPER_ADMIN_PASSWORD" $(MANAGE) createsuperuser \
	    --no-input --username admin --email admin@localhost 2>/dev/null \
	    && echo "Created superuser 'admin'." || echo "Superuser 'admin' already exists."; \
	else \
	  echo "No superuser yet? Run: $(MANAGE) createsuperuser (or set GATEKEEPER_ADMIN_PASSWORD)."; \
	fi
	@echo "Gatekeeper admin: http://127.0.0.1:7843/admin/  decisions (for the proxy): http://127.0.0.1:7844/authz"
	umask 077 && PYTHON=$(PY) exec deploy/serve.sh all

test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

# Each client library with its own toolchain (Node 18+ and Go 1.19+ must be installed).
sdk-test: $(VENV)/.dev
	cd sdk/python && ../../$(PY) -m pytest -q
	@command -v node >/dev/null || { echo "sdk-test needs Node.js 18+: apt-get install nodejs"; exit 1; }
	cd sdk/js && node scripts/build-cjs.js --check && node --test
	@command -v go >/dev/null || { echo "sdk-test needs Go 1.19+: apt-get install golang-go"; exit 1; }
	cd sdk/go && unformatted="$$(gofmt -l .)" && { test -z "$$unformatted" || { echo "gofmt -w: $$unformatted"; exit 1; }; }
	cd sdk/go && GOPROXY=off go vet ./... && GOPROXY=off go test ./...

sdk-vectors: $(VENV)/.dev
	$(PY) -m sdk.vectors

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.dev
	$(PY) -m bench $(BENCH_ARGS)

# The config file's JSON Schema, from the serializers apply_config and the API read; a test
# fails while the checked-in file is out of date.
config-schema: $(VENV)/.runtime
	$(MANAGE) config_schema

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis
