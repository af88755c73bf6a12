# event-core: build, check and test.  Everything installs inside this checkout.
PY ?= python3
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.DEFAULT_GOAL := test
# steps run in order and stop at the first failure, even under make -j
.NOTPARALLEL:
.PHONY: install demo lint typecheck test test-all stress bench docs docs-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev,docs,bench]'
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/python examples/job_demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy
	$(BIN)/pyright

# coverage runs pytest (rather than pytest --cov): the pytest11 entry point imports
# event_core before pytest-cov would start measuring, which loses every module-level line
test: install lint typecheck
	$(BIN)/python -m coverage erase
	$(BIN)/python -m coverage run -m pytest
	$(BIN)/python -m coverage report --fail-under=95
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# the suite (no coverage, no lint) on every Python 3.9..3.13 found, in .venvs/py3.X
test-all:
	bash scripts/test-all.sh -m 'not redis and not typecheck'

stress: install
	$(BIN)/python -m pytest -m stress --stress-scale=10

bench: install
	$(BIN)/python benchmarks/run.py

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# opens the built quick-start page in headless Chromium (installs Debian's chromium if missing)
docs-check: docs
	bash scripts/docs-check.sh

clean:
	rm -rf $(VENV) .venvs site build dist htmlcov .coverage .coverage.* \
		.pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -prune \
		-exec rm -rf {} +
