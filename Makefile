# Utiles ensemble — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app consultation
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
TRANSLATIONS := $(patsubst %.po,%.mo,$(wildcard consultation/translations/*/LC_MESSAGES/messages.po))

.PHONY: install run test lint bench translations extract-messages worker clean

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
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i messages.pot -d consultation/translations --no-fuzzy-matching --ignore-obsolete
	rm messages.pot

# Serve the demo on http://127.0.0.1:5000 with SQLite (migrate and load the demo on first start).
run: install
	APP_ENV=development $(FLASK) db upgrade
	APP_ENV=development $(FLASK) demo load
	APP_ENV=development $(FLASK) run --host 127.0.0.1 --port 5000

worker: install
	$(FLASK) jobs worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check consultation tests bench

# Lint, then the suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: lint
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		TEST_DATABASE=postgresql $(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup; \
	fi

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
