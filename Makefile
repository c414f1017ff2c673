# The familiar verbs over CMake. `make` builds the default configuration (CUDA where the toolkit
# is found, else CPU only); `make test` runs the whole test suite against it.
JOBS    ?= $(shell nproc)
CUDA    ?= AUTO
BUILD   ?= build/release
CPU_BUILD  := build/cpu
ASAN_BUILD := build/asan
PYTHON  := .venv/bin/python
CMAKE_GENERATOR := $(if $(shell command -v ninja),-G Ninja,)

.PHONY: all setup configure build install test test-cpp test-python demo bench bench-setup cpu \
        asan format format-check gpu-check pack-deps clean

all: build

setup:
	bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Release -DTABULA_CUDA=$(CUDA)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The program (and the CUDA plugin where built), public headers and docs under PREFIX.
PREFIX  ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# The whole suite: C++ unit, parity and command-line tests (ctest), then the Python conformance
# tests against the same binary.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	TABULA_BIN=$(abspath $(BUILD))/tabula $(PYTHON) -m pytest -q tests/python

test-cpp: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-python: build
	TABULA_BIN=$(abspath $(BUILD))/tabula $(PYTHON) -m pytest -q tests/python

demo: build
	bash scripts/demo.sh $(BUILD)/tabula

# CPU-only configuration: what a laptop without CUDA builds.
cpu:
	cmake -S . -B $(CPU_BUILD) $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Release -DTABULA_CUDA=OFF
	cmake --build $(CPU_BUILD) -j $(JOBS)
	ctest --test-dir $(CPU_BUILD) --output-on-failure -j $(JOBS)

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer (CPU only).
asan:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTABULA_CUDA=OFF \
	  -DTABULA_SANITIZE=address,undefined -DTABULA_BUILD_BENCHMARKS=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

bench-setup: setup
	$(PYTHON) -m pip install -q -r requirements-bench.txt
	@command -v wrk >/dev/null || { echo "bench-setup: installing wrk (load generator)"; \
	  $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get install -y -qq wrk; }

bench: build
	bash scripts/bench.sh $(BUILD)

SOURCES = $(shell git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' '*.h')
format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run --Werror $(SOURCES)

pack-deps:
	bash scripts/pack-deps.sh

gpu-check:
	bash scripts/gpu-check.sh

clean:
	rm -rf build
