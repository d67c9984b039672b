# Two entry points, each installs what it needs into .venv first:
#   make demo   -> trains the seed's autoencoder on scikit-learn's digits
#   make test   -> the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench bench-quick clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/autodiffsource demo

test: $(VENV)/.installed
	JAX_ENABLE_X64=1 SCIPY_ARRAY_API=1 $(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python -m bench

bench-quick: $(VENV)/.installed
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info
