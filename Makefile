# Utiles ensemble — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app consultation
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
TRANSLATIONS := $(patsubst %.po,%.mo,$(wildcard consultation/translations/*/LC_MESSAGES/messages.po))

.PHONY: install run test lint bench audit translations extract-messages worker clean e2e-deps

install: $(STAMP) $(TRANSLATIONS)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(TRANSLATIONS)

# Refresh the message catalogues after changing user-facing strings.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o messages.pot --no-location --sort-output --width 100 .
	$(BIN)/pybabel update -i messages.pot -d consultation/translations --no-fuzzy-matching --ignore-obsolete --width 100
	rm messages.pot

# Serve the demo on http://127.0.0.1:5000 with SQLite (migrate and load the demo on first start).
run: install
	APP_ENV=development $(FLASK) db upgrade
	APP_ENV=development $(FLASK) demo load
	@echo "Demo accounts: admin@example.org (and the others in README.md), password utiles-ensemble"
	APP_ENV=development $(FLASK) run --host 127.0.0.1 --port 5000

worker: install
	$(FLASK) jobs worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check consultation tests bench

# axe-core for the browser tests, installed again when its lock file changes. Without npm the
# accessibility checks are skipped (CI installs npm and requires them).
E2E_MODULES := tests/e2e/node_modules/.package-lock.json
e2e-deps: $(E2E_MODULES)

$(E2E_MODULES): tests/e2e/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/e2e --no-audit --no-fund && touch $@; \
	else echo "npm not found: the browser accessibility checks will be skipped"; fi

# Lint, then the suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: lint e2e-deps
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		TEST_DATABASE=postgresql $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup; \
	fi

# Load the public pages of a scaled demo (bench/README.md), e.g. BENCH_ARGS="--scale 1 --duration 3".
# wrk is installed when missing and we are root; otherwise bench/run.py says how to get it.
BENCH_ARGS ?=
# Known vulnerabilities of the pinned dependencies (needs the network: PyPI's JSON API). pip-audit
# lives in a venv of its own, so that its dependencies never mix with the application's.
AUDIT_VENV := .venv-audit
audit:
	test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install --quiet pip-audit==2.10.1; }
	$(AUDIT_VENV)/bin/pip-audit --requirement constraints.txt --no-deps --disable-pip --strict --progress-spinner off

bench: install
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; } || true; \
	fi
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(AUDIT_VENV) instance .pytest_cache .ruff_cache
