# SafeSafar: `make run` and `make test` are all a newcomer needs; both call the idempotent `make setup`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
NLU_VENV := .venv-nlu
APP_STAMP := $(VENV)/.installed
NLU_STAMP := $(NLU_VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# `make test` runs the suite in this many processes (pytest-xdist), whole test files each; 0 runs it in one
TEST_WORKERS ?= 2

.PHONY: setup run test model locales db bench clean help cluster-up cluster-down cluster-status
help:
	@echo "make run    - set up on first use, then chat with the assistant (Telegram if TELEGRAM_BOT_TOKEN is set, else the terminal)"
	@echo "make test   - set up, then run the whole test suite"
	@echo "make setup  - create both virtual environments, compile catalogs, train the NLU model if inputs changed"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make cluster-up / cluster-down / cluster-status - the scale-out topology on this machine (scripts/cluster.sh)"

setup: $(APP_STAMP) $(NLU_STAMP) locales db model

# Interface-string catalogs: .po files are committed, the compiled .mo files are built here.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locales/*/LC_MESSAGES/*.po))
locales: $(MO_FILES)
locales/%.mo: locales/%.po $(APP_STAMP)
	$(VENV)/bin/pybabel compile -i $< -o $@

$(APP_STAMP): requirements/app.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: the application needs Python 3.11 or newer as '$(PYTHON)' (make PYTHON=/path/to/python3.11)"; exit 1; }
	@echo "== application environment ($(VENV))"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements/app.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	@touch $@

$(NLU_STAMP): requirements/nlu.lock
	@echo "== NLU environment ($(NLU_VENV), Python 3.10, rasa 3.6): the first time takes several minutes"
	@py310=$$(scripts/find-python310.sh) || exit 1; \
	  $$py310 -m venv $(NLU_VENV) && \
	  $(NLU_VENV)/bin/pip install -q -r requirements/nlu.lock
	@touch $@

# The database (DATABASE_URL, SQLite by default) at the newest migration.
db: $(APP_STAMP)
	@$(VENV)/bin/safesafar db upgrade

# Trains the model only when nlu/ (config, data, lookup tables) changed: keyed by a hash of the inputs.
model: $(APP_STAMP) $(NLU_STAMP)
	@$(VENV)/bin/safesafar nlu train --if-needed

run: setup
	$(VENV)/bin/safesafar run

test: setup
	@case "$${SAFESAFAR_TEST_DATABASES:-sqlite,postgresql}" in *postgresql*) scripts/postgres.sh install; scripts/nginx.sh install;; esac
	@scripts/chromium.sh install
	$(VENV)/bin/safesafar content check
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: setup
	$(VENV)/bin/python bench/nlu_inprocess.py
	$(VENV)/bin/python bench/nlu_throughput.py
	$(VENV)/bin/python bench/telegram_e2e.py
	$(VENV)/bin/python bench/telegram_e2e.py --users 40 --messages 25 --offered 60
	$(VENV)/bin/python bench/telegram_e2e.py --users 40 --messages 25 --offered 100
	$(VENV)/bin/python bench/telegram_e2e.py --users 20 --mix conversation
	$(VENV)/bin/python bench/escalations.py
	$(VENV)/bin/python bench/register_lookup.py
	$(VENV)/bin/python bench/cluster.py

# PostgreSQL, two Rasa servers, two bot workers (webhook), the console and nginx (TLS) on 127.0.0.1:
# needs TELEGRAM_BOT_TOKEN; state in var/cluster (see scripts/cluster.sh)
cluster-up: setup
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

cluster-status:
	scripts/cluster.sh status

clean:
	rm -rf $(VENV) $(NLU_VENV) .cache nlu/models
