# Two entry points (see README): `make demo` and `make test`. Both install what is missing
# (scripts/setup.sh, idempotent), configure, and build incrementally with ccache.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: setup configure build demo test example bench clean sanitize fuzz

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) > /dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The product in one command: a robust method and plain CE side by side on Fashion-MNIST with
# simulated noise whose rate winnow estimates, then the HTML report (scripts/demo.sh).
demo: build
	WINNOW=./$(BUILD)/winnow bash scripts/demo.sh

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 900

# Installs the package under $(BUILD)/install and builds and runs examples/own_tensors against it
# (find_package(winnow)); CI runs it after the tests.
example: build
	@cmake --install $(BUILD) --prefix $(BUILD)/install > /dev/null
	@cmake -S examples/own_tensors -B $(BUILD)/example -G Ninja -DCMAKE_PREFIX_PATH=$(CURDIR)/$(BUILD)/install > /dev/null
	@cmake --build $(BUILD)/example
	./$(BUILD)/example/own_tensors

# One clang build folder, $(ASAN_BUILD), serves `make sanitize` and `make fuzz`: the library is
# built with AddressSanitizer (LeakSanitizer included), UndefinedBehaviorSanitizer and libFuzzer's
# coverage counters at -O1 with line tables (WINNOW_FUZZ=ON; see CMakeLists.txt).
ASAN_BUILD ?= build-asan
ASAN_CONFIGURE = CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DWINNOW_FUZZ=ON > /dev/null

# The tool and the tests under the sanitizers, then the tests but SANITIZE_EXCLUDE: those that
# repeat whole training runs many times (kill-and-resume at 20 points, multi-process jobs, the
# bit-identical resume and export runs) or time speed, which `make test` runs. Any sanitizer
# report fails the test that made it. LibTorch is not instrumented; scripts/lsan.supp names the
# leaks inside it that are not winnow's. CI runs this after `make test`.
SANITIZE_EXCLUDE ?= ConfigProperty|RunsKilledAtTwentyRandomPoints|TrainerResume|DistJob|ModelExport|RendersInHeadlessChromium|RerankSpeed|LargeInputIsFast|RetrievalProperties.Speed
sanitize:
	@bash scripts/setup.sh --clang
	@$(ASAN_CONFIGURE)
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target winnow_tests
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) --timeout 900 -E '$(SANITIZE_EXCLUDE)'

# The libFuzzer harnesses (fuzz/), each run FUZZ_SECONDS from its seeds in fuzz/corpus/<target>;
# crashing inputs land in fuzz/crashes/ and fail the target (scripts/fuzz.sh; FUZZ_TARGETS="csv
# npy" picks harnesses).
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/setup.sh --clang
	@$(ASAN_CONFIGURE)
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target winnow_fuzzers
	FUZZ_BUILD=$(ASAN_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

clean:
	rm -rf $(BUILD)
