# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STACK := $(BIN)/python -m demoportal.devstack
PORT ?= 8000

.PHONY: run test lint typecheck scenarios pytest install chromium clean
.DEFAULT_GOAL := run

## run: set up, then run web (ASGI), worker, beat and simulator in the foreground; Ctrl-C stops all
run: install
	$(STACK) run --port $(PORT)

## test: set up, then ruff, the import contracts (.importlinter), mypy, the scenario catalogue and pytest against real PostgreSQL and Redis
test: install lint typecheck scenarios pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

scenarios: install
	$(BIN)/python manage.py validate_scenarios --strict

pytest: install chromium
	$(STACK) exec -- $(BIN)/pytest

# The browser test (tests/e2e) drives Debian's Chromium; run as root, this installs it when it is missing.
chromium:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || { \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@command -v chromium >/dev/null || echo "chromium is missing and this is not root: the browser test will say so"

install: $(VENV)/.installed node_modules/.installed

# Re-installs only when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements-dev.txt
	touch $@

# Front-end libraries (package.json), exactly as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## clean: remove the virtualenv and the private servers' data (.data/)
clean:
	rm -rf $(VENV) node_modules .data staticfiles .mypy_cache .ruff_cache .pytest_cache
