# Two commands matter: `make demo` (the notebook's scenario on local defaults) and `make test`.
# Both set up what they need: a virtualenv here, Go-built control-plane binaries cached under
# ~/.cache/lakeserve (outside the repo).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install test test-unit demo crds clean bench-scale

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[emulator,dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# The whole suite, then the e2e suite again in real-workspace mode: against a local workspace
# started without its control API (/_emulator/), exactly as against a real one (docs/testing.md).
test: $(STAMP)
	$(BIN)/python -m pytest
	LAKESERVE_E2E_WORKSPACE=no-control $(BIN)/python -m pytest tests/e2e

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

# Not part of `make test`: 200, 1,000 and 5,000 endpoints beside a bare kopf operator, then two
# shards (about 20 minutes on 2 cores). N=200,1000 (and SHARDS_N=0) for a shorter run.
N ?= 100,200,1000,5000
SHARDS_N ?= 5000
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/scale.py --n $(N) --shards-n $(SHARDS_N) --json scale-results.json

demo: $(STAMP)
	$(BIN)/lakeserve demo

crds: $(STAMP)
	$(BIN)/lakeserve crds --output-dir crds
	cp crds/*.yaml charts/lakeserve/crds/
	$(BIN)/lakeserve argocd-health --output-dir charts/lakeserve/health

clean:
	rm -rf $(VENV) .pytest_cache
