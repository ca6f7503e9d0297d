# The two commands: `make run` (the whole system) and `make test` (the whole suite).
# Both work on a machine with only Python 3.11: they start an embedded PostgreSQL and Redis when
# DATABASE_URL / REDIS_URL are unset.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK := $(PY) scripts/stack.py

.PHONY: run test lint bench setup clean messages proof

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(STACK) run

test: $(STAMP)
	DEBUG=true $(PY) manage.py compiletranslations
	DEBUG=true TESTING=true $(STACK) exec -- $(PY) -m pytest -m "not worker" $(PYTEST_ARGS)

# The proof suites (proof/, docs/reliability.md): faults, races, poison rows on the real PostgreSQL,
# Redis and Celery worker processes; kept out of `make test` (testpaths) because they are slow.
# A short setting by default (CI); `make proof FULL=1` runs the full one. The apps' tests that start a
# real Celery worker process (marker `worker`: the cross-system flows) run here too, not in `make test`.
WORKER_TESTS := integration/tests/test_flows_worker.py audit/tests/test_worker.py
PROOF_FULL := PROOF_FULL=1 PROOF_RACE_THREADS=32 PROOF_POISON_ATTEMPTS=8
proof: $(STAMP)
	DEBUG=true $(PY) manage.py compiletranslations
	DEBUG=true TESTING=true $(if $(FULL),$(PROOF_FULL)) $(STACK) exec -- $(PY) -m pytest $(or $(PROOF_ARGS),proof/ $(WORKER_TESTS)) -s -p no:randomly

# The .po files are the only source of translations: extract every app's strings (and the core's,
# into locale/), keep what translators wrote, then compile. Locations without line numbers and no
# obsolete entries, so a second run on a clean tree changes nothing.
MAKEMESSAGES_OPTS := -l pl -l en --add-location=file --no-obsolete \
	--ignore=bench --ignore=scripts --ignore=static --ignore=docs --ignore=var \
	--ignore=test-artifacts --ignore=tests --ignore=conftest.py --ignore=pytest_env_defaults.py

messages: $(STAMP)
	DEBUG=true $(PY) manage.py makemessages $(MAKEMESSAGES_OPTS)
	DEBUG=true $(PY) manage.py compiletranslations

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(STACK) exec -- $(PY) bench/run_all.py

clean:
	$(PY) scripts/stack.py clean
