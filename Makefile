# Muang: `make serve` and `make test` work on a fresh clone (the venv is created on first use).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install system system-test serve index test eval train train-reader bench bench-answers bench-ui chroma clean

# Debian packages: Thai fonts (PDF tests, scanned-page benchmark) and Tesseract with Thai and English data (OCR of
# scanned PDFs and images) for everyone; Debian's Chromium for the browser tests (Playwright cannot download its
# own browser offline). Installed with apt-get when make runs as root; otherwise make names the command.
SYSTEM_DEBS := fonts-thai-tlwg tesseract-ocr tesseract-ocr-tha tesseract-ocr-eng
TEST_DEBS := $(SYSTEM_DEBS) chromium chromium-driver
# $(call debs,PACKAGES,WHAT_IF_NOT_ROOT): install the missing ones, or print the command and run the second argument.
define debs
@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done | xargs); \
if [ -n "$$missing" ]; then \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "Muang needs Debian packages $$missing: run  sudo apt-get update && sudo apt-get install -y $$missing"; $(2); \
	fi; \
fi
endef

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# `serve` works without them (only scanned documents then fail with that command named); `test` needs them all.
system:
	$(call debs,$(SYSTEM_DEBS),true)

system-test:
	$(call debs,$(TEST_DEBS),exit 1)

index: install
	$(BIN)/muang index

# A fresh clone: `muang serve` indexes corpus/ with BM25 and USE-m3 first (seconds), opens the UI, and adds
# the e5 vectors in the background (see README "Performance").
serve: install system
	$(BIN)/muang serve

test: install system-test
	$(BIN)/python -m pytest

eval: install
	$(BIN)/muang eval --set evals/gold.jsonl

# Rebuild the answer-selection and answerability models (assistant/models/*.json) from ../shared's iapp-train
# and XQuAD plus evals/gold.jsonl and evals/unanswerable.jsonl (fixed seed). About 8 min on 2 cores, plus 6 min
# the first time to build the iapp and XQuAD indexes (index/bench-answers/, shared with `make bench-answers`);
# `fit` alone (from the committed evals/train/features.npz) takes seconds.
train: install
	$(BIN)/python evals/train_answers.py all

# Fine-tune the neural reader (assistant/models/reader.npz and its card reader.md) from ../shared's iapp-train
# and XQuAD plus evals/gold.jsonl and evals/unanswerable.jsonl, then fit answerability over it on the calibration
# part (assistant/models/reader_answerability.json). Runs in the background (the shipped reader trained in 46.8 min
# on a quiet 2-core AMD EPYC, plus about 15 min for the benchmark indexes the first time and about 7 min of
# calibration); progress in evals/train/reader-train.log. Interrupted, `make train-reader` again resumes from
# the last checkpoint (every 100 steps).
READER_LOG := evals/train/reader-train.log
train-reader: install
	@mkdir -p evals/train
	@if [ -f evals/train/reader.pid ] && kill -0 $$(cat evals/train/reader.pid) 2>/dev/null; then \
		echo "already training (pid $$(cat evals/train/reader.pid)): tail -f $(READER_LOG)"; exit 0; fi; \
	nohup sh -c '$(BIN)/python evals/train_reader.py all && $(BIN)/python evals/calibrate_reader.py all' \
		>> $(READER_LOG) 2>&1 & echo $$! > evals/train/reader.pid; \
	echo "training in the background (pid $$!); follow it with: tail -f $(READER_LOG)"

# Answer accuracy, abstention and false abstention on every question set (held-out parts reported apart).
bench-answers: install
	$(BIN)/python evals/bench_answers.py --label reader

# Retrieval quality (XQuAD), Muang vs the naive LangChain stack, indexing throughput, query latency at 1k and
# 10k chunks, `muang serve` memory; tables on stdout, JSON in evals/results/. About 25 min once the indexes are
# cached in index/bench/, 35 min the first time. BENCH_100K=1 adds the 100k-chunk runs (about 10 min more,
# plus 4 min to build the 100k index once).
bench: install
	$(BIN)/python evals/bench_retrieval.py
	$(BIN)/python evals/bench_naive.py
	$(BIN)/python evals/bench_indexing.py
	MUANG_BENCH_100K=$(BENCH_100K) $(BIN)/python evals/bench_latency.py
	MUANG_BENCH_100K=$(BENCH_100K) $(BIN)/python evals/bench_serve.py

# 20 concurrent web clients asking the gold questions; add URL=http://host:port/ to load a running app.
bench-ui: install
	test -f $${MUANG_INDEX_DIR:-index}/CURRENT || $(BIN)/muang index
	$(BIN)/python evals/bench_ui.py $(if $(URL),--url $(URL))

# A local Chroma server for server mode: then `export MUANG_CHROMA_URL=http://127.0.0.1:$(CHROMA_PORT)` and
# run `muang index` / `muang serve` as usual (the index folder keeps CURRENT, BM25 and chunk records).
CHROMA_PORT ?= 8000
chroma: install
	mkdir -p index/chroma-server
	$(BIN)/chroma run --path index/chroma-server --host 127.0.0.1 --port $(CHROMA_PORT)

clean:
	rm -rf $(VENV) index/builds index/CURRENT
