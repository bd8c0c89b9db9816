# Everything runs from the repo root inside .venv. `make setup` then `make demo` / `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: setup test lint demo run sandbox bench clean

setup:  ## build .venv from scratch with the pinned dependency set
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --no-input -q -r requirements.lock
	$(PY) -c "import dlt, duckdb, httpx, dbt.version; print('setup ok: dlt', dlt.__version__, '| duckdb', duckdb.__version__)"

lint:
	$(PY) -m ruff check .

test: lint  ## lint, then the whole suite against sandboxes on loopback
	$(PY) -m pytest -n 2 --dist loadfile

demo:  ## start a sandbox on a free port, run the pipeline against it, print the headline
	$(PY) -m pipelines.demo

run:  ## the scheduled job: extract every configured vendor, then transform
	$(PY) -m pipelines.run

sandbox:  ## the vendor sandbox in the foreground (Ctrl-C to stop)
	$(PY) -m simulator serve --port 8765

bench:
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache var transforms/target transforms/logs
