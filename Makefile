# Pincer: the two commands a newcomer needs are `make run` and `make test`.
BUILD_DIR   ?= build
ASAN_DIR    ?= build-asan
FUZZ_DIR    ?= build-fuzz
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= $(shell nproc)
ARGS        ?=
FUZZ_SECONDS ?= 30

.PHONY: all deps test-deps configure build run test unit e2e asan fuzz bench bench-chat clean

all: build

deps:
	@bash scripts/install-deps.sh

test-deps:
	@bash scripts/install-deps.sh --test

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD_DIR)/build.ninja

## build: compile the gateway binary to build/pincer
build: deps configure
	cmake --build $(BUILD_DIR) --target pincer -j $(JOBS)

## run: install what is missing, build, and start the gateway on 127.0.0.1:18789 (ARGS="--port 0" etc.)
run: build
	./$(BUILD_DIR)/pincer gateway run $(ARGS)

## test: build and run every test (unit + end-to-end)
test: test-deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

## asan: the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (clang-19)
asan: test-deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPINCER_BENCH=OFF \
	  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
	  -DCMAKE_CXX_FLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600

## fuzz: build the libFuzzer targets and run each for FUZZ_SECONDS
fuzz: test-deps
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPINCER_FUZZ=ON -DPINCER_TESTS=OFF \
	  -DPINCER_BENCH=OFF -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
	  -DCMAKE_CXX_FLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined"
	cmake --build $(FUZZ_DIR) --target fuzz_targets -j $(JOBS)
	bash tests/fuzz/run_all.sh $(FUZZ_DIR)/tests/fuzz $(FUZZ_SECONDS)

## bench: build in Release and run the load scenarios (see bench/RESULTS.md)
bench: deps
	cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPINCER_TESTS=OFF
	cmake --build build-release -j $(JOBS)
	PINCER_BIN=build-release/pincer LOADGEN_BIN=build-release/pincer_loadgen bash bench/run.sh

## bench-chat: agent-runtime scenarios (fan-out, chat.history/sessions.list, 10-minute soak; SOAK_SECONDS=120 shortens it)
bench-chat: deps
	cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPINCER_TESTS=OFF
	cmake --build build-release -j $(JOBS)
	bash bench/chat_bench.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR) build-release
