# Everything a new user or CI needs: `make demo`, `make test`. Each sets itself up from a bare
# Python 3.11+ (creates .venv, installs, finds or starts Redis).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
WITH_REDIS := $(PY) -m dispatcher.localredis --

.PHONY: install lint typecheck test-tools test demo bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv is missing; installing Debian's python3-venv"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

# Debian packages some tests need: Chromium for the Flower browser test, libfaketime for the fault
# suite's skewed clocks. Where they cannot be installed those tests skip and say so.
test-tools:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	  ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || missing="$$missing libfaketime"; \
	  [ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	    && apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $$missing >/dev/null 2>&1; } \
	  || echo "could not install$$missing: the tests that need it will be skipped"

test: lint typecheck test-tools
	$(WITH_REDIS) $(PY) -m pytest

demo: install
	$(VENV)/bin/dispatcher dev --demo

# Every benchmark (each prints one JSON line) into $(BENCH_OUT), then docs/benchmarks.md from them.
bench: BENCH_OUT ?= test-artifacts/bench
bench: BENCHES ?= 'simulator_throughput' 'store_memory' 'intake' 'api_intake' 'ratelimit' \
  'throughput --runs 3 --profile $(BENCH_OUT)/profile' 'transactional_latency' 'scaling'
bench: install
	rm -rf $(BENCH_OUT) && mkdir -p $(BENCH_OUT)
	@set -e; for b in $(BENCHES); do name=$${b%% *}; args=$${b#$$name}; \
	  echo "$(PY) bench/$$name.py$$args" | tee $(BENCH_OUT)/$$name.cmd; \
	  $(WITH_REDIS) $(PY) bench/$$name.py $$args > $(BENCH_OUT)/$$name.json; cat $(BENCH_OUT)/$$name.json; \
	done
	$(WITH_REDIS) $(PY) bench/report.py $(BENCH_OUT)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
