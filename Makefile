# Two commands on a fresh machine: `make demo` and `make test`.
# torch is pinned to the CPU build that lies on disk; constraints.txt keeps every later install from replacing it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,train,data,columnar,plot,triton,export
THREADS ?= 1
# pytest workers (pytest-xdist); 0 runs the suite in one process. Every worker keeps torch at 1 thread
# (tests/conftest.py), so 2 workers fill a 2-core machine: 4 min 22 s against 7 min 29 s in one process here.
TEST_WORKERS ?= 2

export OMP_NUM_THREADS ?= $(THREADS)
export MKL_NUM_THREADS ?= $(THREADS)

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/attnpool demo --threads $(THREADS)

# The layers contract (pyproject.toml) and lint first: both take seconds, the tests a minute or more.
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	$(PY) benchmarks/pooling_speed.py --quick

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
