# Forecourt. `make` (or `make help`) lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# uv may not download interpreters here; scripts/find-python picks an installed Python 3.12+.
export UV_PYTHON_DOWNLOADS := never
# With a committed lock file, `uv run` installs exactly what it says and never rewrites it.
ifneq ($(wildcard uv.lock),)
export UV_FROZEN := 1
endif

UV := $(CURDIR)/scripts/uv
PYTEST_ARGS ?=
APP_LOCALE_DIRS = $(wildcard src/forecourt/*/locale)

.PHONY: help setup demo test lint format bench messages clean

help: ## List the targets
	@echo "Forecourt: make <target>"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z_-]*:.*## / {printf "  \033[1m%-9s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: PORT (demo, default 8000), DATABASE_URL (test/demo on PostgreSQL), PYTEST_ARGS, PYTHON."

setup: ## Install Python 3.12+ packages (uv), front-end packages (npm) and translations; safe to re-run
	@scripts/setup

demo: setup ## Migrate, load demo data if empty and serve on http://127.0.0.1:8000 (PORT overrides)
	$(UV) run forecourt demo

test: setup ## Run the whole test suite (SQLite, or PostgreSQL when DATABASE_URL=postgres://... is set)
	@scripts/ensure-chromium
	$(UV) run pytest $(PYTEST_ARGS)

lint: setup ## ruff (lint + format check), mypy with django-stubs, and the import-layer contract
	@# Every checker runs, so one report shows all problems; the target fails if any of them did.
	@failed=""; \
	echo "==> ruff check"; $(UV) run ruff check . || failed="$$failed ruff-check"; \
	echo "==> ruff format --check"; $(UV) run ruff format --check . || failed="$$failed ruff-format"; \
	echo "==> mypy"; FORECOURT_ALLOW_DEV_KEYS=1 $(UV) run mypy src || failed="$$failed mypy"; \
	echo "==> lint-imports"; $(UV) run lint-imports --no-cache || failed="$$failed lint-imports"; \
	if [ -n "$$failed" ]; then echo "lint failed:$$failed" >&2; exit 1; fi; echo "lint passed"

format: setup ## Apply ruff's fixes and formatting
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

bench: setup ## Benchmark pages and APIs against a minimal endpoint, and the flash sale against pgbench
	$(UV) run python bench/run.py
	$(UV) run python bench/flash_sale.py
	$(UV) run python bench/voucher_redeem.py
	$(UV) run python bench/points_ledger.py

messages: setup ## Update every app's .po catalogues from the sources, then compile them
	@for dir in $(APP_LOCALE_DIRS); do \
		app=$$(dirname $$dir); \
		echo "==> makemessages $$app"; \
		(cd $$app && FORECOURT_ALLOW_DEV_KEYS=1 $(UV) run forecourt makemessages -l zh_Hans -l en \
			--ignore 'tests/*' --verbosity 0); \
	done
	cd src/forecourt && FORECOURT_ALLOW_DEV_KEYS=1 $(UV) run forecourt compilemessages --verbosity 0
	@echo "Fill every empty zh_Hans msgstr (and remove '#, fuzzy') before committing."

clean: ## Remove caches, collected static files and compiled catalogues (keeps the demo database in var/)
	find . -path ./node_modules -prune -o -path ./.venv -prune -o -path ./.venv-tools -prune -o \
		\( -name __pycache__ -o -name .pytest_cache -o -name .hypothesis \) -type d -print0 | xargs -0 rm -rf
	find src -name '*.mo' -delete
	rm -rf .mypy_cache .ruff_cache .import_linter_cache test-results var/static var/test*.sqlite3*
