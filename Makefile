# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# The product as pip installs it: hot modules compiled by mypyc (setup.py). A second venv,
# rebuilt whenever a source file changes, so the compiled suite never runs a stale build.
VENV_COMPILED := .venv-compiled
BIN_COMPILED := $(VENV_COMPILED)/bin
STAMP_COMPILED := $(VENV_COMPILED)/.installed
SOURCES := $(shell find edi_guard -name '*.py' -o -name '*.json' -o -name '*.xsd') setup.py pyproject.toml

.PHONY: demo test lint typecheck unit unit-compiled bench clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# An editable install is always plain Python (setup.py compiles only real builds): an
# extension module built in place would shadow later edits of its source.
$(STAMP_RUN): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

$(STAMP_COMPILED): $(SOURCES)
	test -x $(BIN_COMPILED)/python || $(PYTHON) -m venv $(VENV_COMPILED)
	$(BIN_COMPILED)/pip install --quiet --upgrade pip
	# From scratch: setuptools packs whatever build/ holds, stale extensions included.
	rm -rf build
	$(BIN_COMPILED)/pip wheel --quiet --no-deps --wheel-dir build/wheel .
	$(BIN_COMPILED)/pip install --quiet --force-reinstall --no-deps build/wheel/edi_guard-*.whl
	$(BIN_COMPILED)/pip install --quiet "$$(ls build/wheel/edi_guard-*.whl)[test]"
	touch $@

demo: $(STAMP_RUN)
	$(BIN)/python -m edi_guard.demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check edi_guard tests bench setup.py
	$(BIN)/ruff format --check edi_guard tests bench setup.py

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

unit: $(STAMP_TEST)
	$(BIN)/pytest -q

# The same suite on the compiled build; tests/test_build.py checks that it is compiled and
# built from the source in this tree.
unit-compiled: $(STAMP_COMPILED)
	EDI_GUARD_EXPECT_COMPILED=1 $(BIN_COMPILED)/pytest -q -p no:cacheprovider

test: lint typecheck unit unit-compiled

# What users run: the compiled build.
bench: $(STAMP_COMPILED)
	$(BIN_COMPILED)/python bench/run.py

# A long campaign per target (FUZZ_SECONDS each, default 10 minutes); crashes are kept in
# fixtures/fuzz-regressions/<target>/ and each run is appended to fuzz/campaigns.tsv.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP_TEST)
	for target in tokenizer validator fix; do \
		$(BIN)/python fuzz/run.py --target $$target --seconds $(FUZZ_SECONDS) --keep-going --record \
			|| status=1; \
	done; exit $${status:-0}

clean:
	rm -rf $(VENV) $(VENV_COMPILED) build demo-out .mypy_cache .pytest_cache .ruff_cache
