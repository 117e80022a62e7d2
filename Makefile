# Two entry points (see README): `make demo` and `make test`. Both install what is missing
# (scripts/setup.sh, idempotent), configure, and build incrementally with ccache.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: setup configure build demo test example bench clean

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

clean:
	rm -rf $(BUILD)
