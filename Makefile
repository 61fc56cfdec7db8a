# Two entry points: `make demo` and `make test`. Each builds .venv when needed.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip install --quiet --progress-bar off
# Extras: resmem ships real pretrained weights (NON-COMMERCIAL licence; drop it
# with `make demo DEMO_EXTRAS=` if that does not fit your use).
DEMO_EXTRAS ?= resmem
TEST_EXTRAS ?= dev,resmem,text,timm,clip,dask,ray

.PHONY: demo test bench docs clean

$(PYTHON):
	python3 -m venv $(VENV)

$(VENV)/.demo-installed: pyproject.toml | $(PYTHON)
	$(PIP) -e ".[$(DEMO_EXTRAS)]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PYTHON)
	$(PIP) -e ".[$(TEST_EXTRAS)]"
	touch $@

demo: $(VENV)/.demo-installed
	$(PYTHON) -m skmem demo

test: $(VENV)/.test-installed
	$(PYTHON) -m pytest -q

$(VENV)/.docs-installed: pyproject.toml | $(PYTHON)
	$(PIP) -e ".[docs,resmem,text,timm,clip,dask]"
	touch $@

docs: $(VENV)/.docs-installed
	$(PYTHON) -m sphinx -b html -q -W --keep-going docs docs/_build/html

bench: $(VENV)/.test-installed
	for script in benchmarks/bench_*.py; do $(PYTHON) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
