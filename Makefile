# Both targets build .venv on first use, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term
	# The translators are pure functions: every branch of them is exercised.
	$(BIN)/coverage report --include='traced_asgi_lambda/events/*' --fail-under=100

test: lint types unit

# The benchmark suite (bench/), printed as a table; see docs/performance.md. Its own venv:
# the contrib instrumentations it compares against pin other OpenTelemetry versions.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_VENV)/.installed

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench

# A bounded fuzz run over the event parser (not part of make test); see docs/reliability.md.
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[fuzz]' || echo "atheris unavailable: falling back to hypothesis"
	$(BIN)/python -m tests.fuzz.events

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage
