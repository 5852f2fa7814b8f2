# The front door. `make run` serves the site locally; `make test` runs the whole suite.
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format prereqs bench lighthouse clean package

run: prereqs $(VENV)/.installed node_modules/.installed
	$(BIN)/python scripts/run_local.py

test: prereqs $(VENV)/.installed node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: prereqs $(VENV)/.installed node_modules/.installed
	$(BIN)/python bench/counter_contention.py

# Lighthouse's four scores, mobile and desktop, into bench/README.md (needs Chromium; not a test).
lighthouse: prereqs $(VENV)/.installed node_modules/.installed
	$(BIN)/python bench/lighthouse.py

package: $(VENV)/.installed
	$(BIN)/python scripts/build_package.py

prereqs:
	@PYTHON=$(PYTHON) scripts/check_prereqs.sh

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@echo "Creating $(VENV) and installing pinned dependencies ..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "Installing DynamoDB Local, axe-core and Lighthouse (npm) ..."
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules staticfiles build
