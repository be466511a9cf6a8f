# The README's two commands: `make run` (the demo) and `make test` (the whole suite).
# Both create .venv and install pinned dependencies from constraints.txt first: `make run` the
# runtime ones and GraphiQL's three npm packages, `make test` the dev extra and the npm oracles.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rugzak-installed
RUN_STAMP := $(VENV)/.rugzak-runtime-installed
# make run's GraphiQL: three npm packages (tools/graphiql_assets.py), not the test oracles
GRAPHIQL_DIR := .rugzak/graphiql
GRAPHIQL_STAMP := $(GRAPHIQL_DIR)/.installed
NODE_STAMP := node_modules/.rugzak-installed
BENCH_STAMP := $(VENV)/.rugzak-bench-installed

.PHONY: install run graphiql-assets test lint typecheck pytest schema clean test-servers bench wrk test-deep soak
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,tracing]'
	touch $@ $(RUN_STAMP)

# what the demo needs: the runtime dependencies alone (the dev extra is for `make test`)
$(RUN_STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

# From the npm registry: the test oracles (a reference gateway and a composition library) and
# GraphiQL's browser assets, which the gateway serves itself at GET /graphql.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)

# GraphiQL's browser assets alone (graphiql, react, react-dom at package-lock.json's versions
# and integrity, fetched with `npm pack`), not the test oracles. The demo starts without them
# (npm missing, or offline on first run): GET /graphql then serves the built-in explorer.
$(GRAPHIQL_STAMP): package-lock.json tools/graphiql_assets.py $(RUN_STAMP)
	$(PY) -m tools.graphiql_assets $(GRAPHIQL_DIR)
	touch $@

graphiql-assets:
	@$(MAKE) --no-print-directory $(GRAPHIQL_STAMP) || echo 'make run: could not fetch GraphiQL' \
		'(npm pack); the browser page at /graphql will be the built-in explorer instead' >&2

run: $(RUN_STAMP) graphiql-assets
	RUGZAK_GRAPHIQL_DIR=$${RUGZAK_GRAPHIQL_DIR:-$(GRAPHIQL_DIR)} $(PY) -m gateway demo

lint: $(STAMP)
	$(PY) -m ruff check gateway auth subgraphs resolvers tests
	$(PY) -m ruff format --check gateway auth

typecheck: $(STAMP)
	$(PY) -m mypy gateway auth subgraphs resolvers

# Servers the tests run for real (never assumed present): redis-server and PostgreSQL (the
# registry's replicas; tests/registry starts its own cluster from /usr/lib/postgresql/*/bin)
# from Debian's packages; a headless Chromium (renders GraphiQL under its CSP in a test); and
# what the benchmark's smoke test (tests/bench) needs: wrk and the bench extra (matplotlib).
test-servers: wrk $(BENCH_STAMP)
	@command -v redis-server >/dev/null || { \
		echo 'installing redis-server (Debian package) for the tests'; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null || { \
		echo 'installing chromium-headless-shell (Debian package): GraphiQL under its CSP'; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
		echo 'installing postgresql (Debian package) for the tests'; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The benchmark's load generator, from Debian's packages.
wrk:
	@command -v wrk >/dev/null || { \
		echo 'installing wrk (Debian package) for the benchmark'; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench,tracing]'
	touch $@

# Rugzak side by side with Apollo Gateway and Hive Gateway (bench/compare.py; about 5 minutes).
# BENCH_ARGS=--quick for a smoke run; results in bench/results/bench.json and bench.png.
bench: $(BENCH_STAMP) $(NODE_STAMP) wrk
	$(PY) -m bench.compare $(BENCH_ARGS)

pytest: $(STAMP) $(NODE_STAMP) test-servers
	$(PY) -m pytest

# the generated-operation tests at length (2,000 operations per fixture set, a fresh seed), and
# `pip install` of the wheel into a new venv with its dependencies from the index
test-deep: $(STAMP) $(NODE_STAMP) test-servers
	$(PY) -m pytest --deep tests/federation tests/e2e/test_authorization_property.py tests/packaging

test: lint typecheck pytest

# The fault and soak suite at length (tests/resilience; a short run is part of `make test`):
# every fault case with longer phases, then a soak of distinct operations for what is left of
# SOAK_MINUTES (default 30). Prints a table; figures in bench/results/soak.json.
SOAK_MINUTES ?= 30
soak: $(STAMP) test-servers
	RUGZAK_SOAK_SECONDS=$$(( $(SOAK_MINUTES) * 60 )) $(PY) -m pytest tests/resilience -q -s

# schema.graphql: the reference subgraphs composed by our composition (gateway/composition)
schema: $(STAMP)
	$(PY) -m tools.reference_supergraph

clean:
	rm -rf $(VENV) node_modules .rugzak
