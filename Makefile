# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export BFF_DATA_DIR ?= var

.PHONY: install run test lint format bench schema clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start (or reuse) the local PostgreSQL server in $(BFF_DATA_DIR)/postgres, migrate, load
## demo data, print tokens, serve on :8000. `loyalty-bff db stop` stops the server.
run: $(STAMP)
	BFF_DEV_AUTH=1 BFF_ORDERS_HMAC_SECRET=$${BFF_ORDERS_HMAC_SECRET:-dev-orders-secret} \
		BFF_WEBVIEW_COOKIE_SECURE=$${BFF_WEBVIEW_COOKIE_SECURE:-0} $(BIN)/loyalty-bff demo

## The whole suite, on a PostgreSQL server started for the run (or BFF_TEST_POSTGRES_URL).
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bff webviews push tests bench
	$(BIN)/ruff format --check bff webviews push tests bench
	$(BIN)/mypy bff webviews push
	$(BIN)/lint-imports
	$(BIN)/loyalty-bff export-schema --check

format: $(STAMP)
	$(BIN)/ruff format bff webviews push tests bench
	$(BIN)/ruff check --fix bff webviews push tests bench

## Every benchmark, on BFF_BENCH_POSTGRES_URL or a bff_bench database of the local server.
bench: $(STAMP)
	@missed=""; \
	for bench in ledger_write worker_drain partner_events import_balances home \
		webview_render push_campaign checkout; do \
		$(BIN)/python bench/$$bench.py || missed="$$missed $$bench"; \
	done; \
	if [ -n "$$missed" ]; then echo "targets missed or failed:$$missed"; exit 1; fi

schema: $(STAMP)
	$(BIN)/loyalty-bff export-schema

clean:
	-[ -x $(BIN)/loyalty-bff ] && $(BIN)/loyalty-bff db stop
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
