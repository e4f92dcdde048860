# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing and installs the project with its test extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := $(CURDIR)/.demo/portal.db

.PHONY: demo demo-portal test screenshots bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p .demo
	PORTAL_DATABASE_URL=sqlite:///$(DEMO_DB) PORTAL_MAILDIR=$(CURDIR)/.demo/maildir \
	PORTAL_LOG_FILE=$(CURDIR)/.demo/console.log $(BIN)/portal-console demo

# The customer portal on the demo database, so the links in .demo/maildir open (run beside `make demo`).
demo-portal: $(STAMP)
	mkdir -p .demo
	PORTAL_DATABASE_URL=sqlite:///$(DEMO_DB) PORTAL_MAILDIR=$(CURDIR)/.demo/maildir \
	$(BIN)/portal-console serve --host 127.0.0.1 --port 8080

test: $(STAMP)
	$(BIN)/python -m pytest

screenshots: $(STAMP)
	$(BIN)/python -m tui.screenshots screenshots

# Each script under bench/ prints its figures; bench/RESULTS.md records them.
bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .demo .pytest_cache
