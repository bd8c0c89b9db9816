# Everything runs from the repo root inside .venv. `make setup` then `make demo` / `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: setup test test-fast test-slow lint demo spark-demo run dashboard sandbox dagster bench clean

CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

setup:  ## .venv with the pinned dependency set; Debian's Chromium, Postgres 15, Java and Postgres' JDBC driver (Spark); Spark's class-data archives
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --no-input -q -r requirements.lock
	@missing=""; [ -x $(CHROMIUM) ] || missing="chromium"; \
	[ -x "$$(pg_config --bindir 2>/dev/null)/initdb" ] || missing="$$missing postgresql-15"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	[ -f /usr/share/java/postgresql.jar ] || missing="$$missing libpostgresql-jdbc-java"; \
	[ -z "$$missing" ] || { echo "installing Debian packages:$$missing"; $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; }
	@# class-data archives for the JVMs of local Spark clusters (tests, spark-demo): each starts ~2x faster
	$(PY) -c "from warehouse.spark_cluster import make_class_archives as m; print('Spark class-data archives:', *m().values())"
	$(PY) -c "import dlt, duckdb, httpx, dbt.version; print('setup ok: dlt', dlt.__version__, '| duckdb', duckdb.__version__)"

lint:
	$(PY) -m ruff check .

test-fast: lint  ## lint, then the unit and contract tests (marked fast): no sandbox, no runner process; seconds
	$(PY) -m pytest -m fast -n 2 --dist loadfile

test: test-fast  ## the fast tier first, then every other test (after it even under make -j)
	@$(MAKE) --no-print-directory test-slow

test-slow:  ## every test not marked fast, against sandboxes on loopback (`make bench ARGS="--only suite"` measures it)
	$(PY) -m pytest -m "not fast" -n 3 --dist loadfile --no-loadscope-reorder --durations=20

demo:  ## start a sandbox on a free port, run the pipeline against it, print the headline
	$(PY) -m pipelines.demo

spark-demo:  ## the demo on a throwaway local Spark cluster (Postgres metastore, master, two workers): spark_demo_published/
	$(PY) -m pipelines.demo --spark

run:  ## the scheduled job: extract every configured vendor, then transform
	$(PY) -m pipelines.run

dashboard:  ## the HTML dashboard from the published marts (warehouse_published/dashboard.html)
	$(PY) -m dashboard

sandbox:  ## the vendor sandbox in the foreground (Ctrl-C to stop)
	$(PY) -m simulator serve --port 8765

dagster:  ## the Dagster UI (orchestration/) on the configured warehouse; `make sandbox` serves the default config
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/var/dagster} sh -c 'mkdir -p "$$DAGSTER_HOME" && \
		exec $(VENV)/bin/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $${PORT:-3000}'

bench:  ## every benchmark; ARGS=--quick for the short versions, ARGS='--only noop' for one
	$(PY) -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache var transforms/target transforms/logs *_published spark_demo .spark_demo.d*
