# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint install lock peers browser bench bench-quick soak

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

test: lint  ## the whole suite, a file at a time on each of two workers (module fixtures stay whole)
	$(BIN)/pytest -n 2 --dist loadfile

BENCH_TOOLS = $(BIN)/otpgate-bench-installed

$(BENCH_TOOLS): $(BIN)/otpgate-installed
	@command -v wrk >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk; }
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test,bench]'
	touch $@

bench: $(BENCH_TOOLS)  ## the benchmark: a table, bench/results/<date>-<commit>.json and .png
	$(BIN)/python bench/run.py
	$(BIN)/python bench/flows.py  # flows/s: SQLite, PostgreSQL one node and two, side by side
	$(BIN)/python bench/smpp_throughput.py  # SMPP submits/s of one worker, receipts flowing
	$(BIN)/python bench/serving_stack.py  # CPU per request: servers, JSON, middleware, SQLite driver
	$(BIN)/python bench/analytics.py  # the analytics summary with 10^3 and 10^6 verifications stored
	$(BIN)/python bench/console.py  # the console overview page against five API reads
	$(BIN)/python bench/provider_signatures.py  # CPU of the call and WhatsApp providers' JWTs and signed callbacks

bench-quick: $(BENCH_TOOLS)  ## the same in under a minute, smaller (a smoke run)
	$(BIN)/python bench/run.py --quick
	$(BIN)/python bench/analytics.py --quick
	$(BIN)/python bench/console.py --quick

soak: install  ## not in CI (about an hour): 10⁶ verifications on SQLite, then a minute of a flapping SMS gateway (docs/reliability.md)
	$(BIN)/python bench/soak.py
	OTPGATE_FAULTS_FLAP_SECONDS=60 $(BIN)/pytest -q -s tests/faults/test_provider_faults.py

lock:  ## refresh requirements.lock after changing dependencies in pyproject.toml
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

PEERS = .peers
PRISM = $(PEERS)/node_modules/.bin/prism
TWILIO_SPEC = $(PEERS)/twilio_api_v2010.json
TWILIO_LOOKUP_SPEC = $(PEERS)/twilio_lookups_v2.json

peers: $(PRISM) $(TWILIO_SPEC) $(TWILIO_LOOKUP_SPEC) browser  ## protocol peers the tests start: Kannel and Chromium (Debian, needs root), Prism and Twilio's OpenAPI descriptions of Messages and Lookup v2 (npm)
	@command -v bearerbox >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kannel; }

# the console's browser tests drive Debian's Chromium through Playwright (never a browser
# that Playwright would download)
browser:  ## Chromium for tests/console (Debian's package, needs root)
	@test -x /usr/bin/chromium || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

$(PRISM):
	npm install --no-audit --no-fund --silent --prefix $(PEERS) @stoplight/prism-cli@5.16.0

$(TWILIO_SPEC) $(TWILIO_LOOKUP_SPEC):
	mkdir -p $(PEERS)
	cd $(PEERS) && npm pack --silent @twilio/cli-core@9.0.0 >/dev/null && \
		tar xzf twilio-cli-core-9.0.0.tgz --strip-components=4 \
			package/src/services/twilio-api/$(notdir $@) && rm twilio-cli-core-9.0.0.tgz
