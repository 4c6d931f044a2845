# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint install lock peers

$(BIN)/otpgate-installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

install: $(BIN)/otpgate-installed

run: install  ## serve on 127.0.0.1:8080 with the embedded default (SQLite, developer outbox)
	$(BIN)/otpgate serve --host 127.0.0.1 --port 8080

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/mypy src

test: lint  ## the whole suite
	$(BIN)/pytest

lock:  ## refresh requirements.lock after changing dependencies in pyproject.toml
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

peers:  ## protocol peers the tests start, from Debian's packages: Kannel (needs root; CI runs it)
	@command -v bearerbox >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kannel; }
