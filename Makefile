# Muang: `make serve` and `make test` work on a fresh clone (the venv is created on first use).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install serve index test eval bench bench-ui clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/muang index

serve: install
	test -f $${MUANG_INDEX_DIR:-index}/CURRENT || $(BIN)/muang index
	$(BIN)/muang serve

test: install
	$(BIN)/python -m pytest

eval: install
	$(BIN)/muang eval --set evals/gold.jsonl

bench: install
	$(BIN)/python evals/bench_retrieval.py

# 20 concurrent web clients asking the gold questions; add URL=http://host:port/ to load a running app.
bench-ui: install
	test -f $${MUANG_INDEX_DIR:-index}/CURRENT || $(BIN)/muang index
	$(BIN)/python evals/bench_ui.py $(if $(URL),--url $(URL))

clean:
	rm -rf $(VENV) index/builds index/CURRENT
