# The README's two commands: `make run` (the demo) and `make test` (the whole suite).
# Both create .venv and install the pinned dependencies from constraints.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rugzak-installed
NODE_STAMP := node_modules/.rugzak-installed

.PHONY: install run test lint typecheck pytest schema clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# Test oracles from the npm registry: a reference gateway and a composition library.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) -m gateway demo

lint: $(STAMP)
	$(PY) -m ruff check gateway auth subgraphs resolvers tests
	$(PY) -m ruff format --check gateway auth

typecheck: $(STAMP)
	$(PY) -m mypy gateway auth

pytest: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest

test: lint typecheck pytest

# schema.graphql: the reference subgraphs composed by the reference composition library
schema: $(STAMP) $(NODE_STAMP)
	$(PY) -m tools.reference_supergraph

clean:
	rm -rf $(VENV) node_modules .rugzak
