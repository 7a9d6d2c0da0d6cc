# ScriptBatch developer targets. `make run` and `make test` work on a fresh clone:
# both create .venv and install the project into it first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit bench screenshots translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# scriptbatch-gui checks for a display and Qt's xcb libraries first and prints the apt command
# that fixes a missing one.
run: $(STAMP)
	$(BIN)/scriptbatch-gui

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m AppCode.ui.screenshots --out docs/screenshots
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m AppCode.ui.screenshots --out docs/screenshots --language zh_CN

TS := AppCode/ui/resources/translations/scriptbatch_zh_CN.ts
LRELEASE := $(shell command -v lrelease || command -v lrelease-qt5)

# Refresh the .ts from every tr() string in the UI (translate new ones with Qt Linguist), then
# compile the .qm the app loads. lrelease comes with Debian's qttools5-dev-tools.
translations: $(STAMP)
	$(BIN)/pylupdate5 -noobsolete $$(find AppCode/ui -name '*.py' | sort) -ts $(TS)
	@if [ -z "$(LRELEASE)" ]; then \
		echo "lrelease not found: sudo apt install qttools5-dev-tools"; exit 1; fi
	$(LRELEASE) $(TS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
