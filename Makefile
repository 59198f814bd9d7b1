# Two commands: `make run` serves the demo on http://127.0.0.1:$(PORT); `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
export PORT

# The machine's own PostgreSQL and Redis, for `make test-services` (each suite run gets its own
# database and Redis db number).
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/yima_test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/13

.PHONY: run test test-services test-failover fuzz-nightly setup setup-test browser fonts bench bench-load \
  clean

$(VENV)/.run-installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed tests/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

setup: $(VENV)/.run-installed fonts

# Certificate PDFs embed a Chinese font subset: Debian's fonts-wqy-microhei (docs/certificate.md).
# Without it (no root, no network) everything runs but a PDF answers certificate_font_missing.
fonts:
	@if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
	  echo "Installing Debian's fonts-wqy-microhei for certificate PDFs"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei \
	    >/dev/null) || echo "fonts-wqy-microhei not installed: certificate PDFs are unavailable"; fi

setup-test: $(VENV)/.test-installed browser

# Browser tests use Debian's Chromium (never a downloaded browser build) and a CJK font, so
# screenshots show Chinese text as a person would see it.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "microhei"; then \
	  echo "Installing Debian's chromium and fonts-wqy-microhei for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-wqy-microhei >/dev/null; fi

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# The 200-offline-rides kiosk test passes alone but has timed out after the rest of the suite in
# the same process (an order dependence not yet found): it runs on its own, after the others.
# (--deselect takes the id from tests/, where pytest.ini is.)
KIOSK_200 := browser/test_validator_kiosk.py::test_two_hundred_offline_rides_reach_the_server_once

# The API, domain and fault tests run on both cores (pytest-xdist: each worker its own database,
# Redis db and embedded Redis; a file stays on one worker); the browser tests then run one at a
# time, since two Chromiums on two cores make their timing waits flaky.
XDIST := -n 2 --dist loadfile

test: setup-test
	$(PY) -m pytest tests -m "not browser" $(XDIST)
	$(PY) -m pytest tests -m browser --deselect "$(KIOSK_200)"
	$(PY) -m pytest "tests/$(KIOSK_200)"

# The browser tests drive the screens on the embedded default in `make test`; here every API,
# domain and fault test runs again on PostgreSQL and Redis (BROWSER=1 adds the browser tests).
test-services: setup-test
	YIMA_TEST_DATABASE_URL=$(TEST_DATABASE_URL) YIMA_TEST_REDIS_URL=$(TEST_REDIS_URL) \
	  $(PY) -m pytest tests -m "not browser" $(XDIST)
	$(if $(BROWSER),YIMA_TEST_DATABASE_URL=$(TEST_DATABASE_URL) YIMA_TEST_REDIS_URL=$(TEST_REDIS_URL) \
	  $(PY) -m pytest tests -m browser)

# Past one machine (docs/deployment.md): a Redis master, replica and three sentinels, a PostgreSQL
# primary and synchronous standby, two gunicorn instances, all on ports of their own in a temporary
# folder; the Redis master is killed and the PostgreSQL primary crashed under load. Prints the
# failover windows and the exactly-once figures. Not part of `make test` (tests/failover/conftest.py).
test-failover: $(VENV)/.test-installed
	YIMA_FAILOVER=1 $(PY) -m pytest tests/failover -s

bench: setup-test
	$(PY) bench/verify_bench.py
	$(PY) bench/import_bench.py

# Load on the whole stack (gunicorn on the machine's PostgreSQL and Redis, db yima_bench_load and
# Redis db 11) driven by Debian's wrk; not part of `make test`. Results: docs/benchmarks.md.
bench-load: setup-test
	@command -v wrk >/dev/null 2>&1 || { echo "Installing Debian's wrk"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/load_bench.py

# Cost as the zone grows (10 k / 3 M persons, 0 / 10 M settlements, clearing at 10 M): builds the
# kept database yima_bench_growth once (resumable), then measures under the shared benchmark lock.
.PHONY: bench-growth
bench-growth: setup-test
	$(PY) bench/growth_bench.py --generate
	flock /tmp/yima-bench.lock $(PY) bench/growth_bench.py

# The bounded fuzz tests (code decoder, every API operation through schemathesis) with fifty times
# the examples than in `make test`: for a nightly job (docs/security.md).
fuzz-nightly: setup-test
	YIMA_FUZZ_SCALE=$${YIMA_FUZZ_SCALE:-50} $(PY) -m pytest tests/tokens/test_security_regressions.py \
	  tests/test_openapi.py

clean:
	rm -rf $(VENV) instance .pytest_cache
