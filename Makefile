# Two entry points that do all setup on a fresh machine: `make demo` and `make test`.
# The venv is rebuilt only when the project metadata or the pins change.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench-overhead clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned, so that nothing later resolves a CUDA build from the registry.
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[ml,dev,mitigate,suite]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/genwatt bench
	$(BIN)/genwatt suite

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench-overhead: $(STAMP)
	$(BIN)/python benchmarks/meter_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
