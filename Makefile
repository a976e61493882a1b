# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint typecheck unit bench clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/python -m edi_guard.demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check edi_guard tests bench
	$(BIN)/ruff format --check edi_guard tests bench

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

unit: $(STAMP_TEST)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP_TEST)
	$(BIN)/python bench/run.py

# A long campaign per target (FUZZ_SECONDS each, default 10 minutes); crashes are kept in
# fixtures/fuzz-regressions/<target>/ and each run is appended to fuzz/campaigns.tsv.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP_TEST)
	for target in tokenizer validator fix; do \
		$(BIN)/python fuzz/run.py --target $$target --seconds $(FUZZ_SECONDS) --keep-going --record \
			|| status=1; \
	done; exit $${status:-0}

clean:
	rm -rf $(VENV) demo-out .mypy_cache .pytest_cache .ruff_cache
