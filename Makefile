# Vigil's commands. `make test` is what CI runs (.ci/run).
# Every target that builds first runs ops/setup.sh, which is idempotent.
SHELL := /bin/bash
ROOT := $(abspath .)
PREFIX := $(ROOT)/.deps/prefix
# The librdkafka that setup built lives in $(PREFIX); these make the compiler,
# the linker and the built binaries find it (see ops/setup.sh for why).
ENV := source $(ROOT)/ops/env.sh &&
RPATH := -Xlinker -rpath -Xlinker $(PREFIX)/lib
SWIFT_FLAGS ?=

.PHONY: setup build release test deploy-check container-check demo fuzz bench-kafka bench-pipeline bench-e2e clean-deps

setup:
	@bash ops/setup.sh

build: setup
	@$(ENV) swift build $(RPATH) $(SWIFT_FLAGS)

release: setup
	@$(ENV) swift build -c release $(RPATH) $(SWIFT_FLAGS)

## make test: setup, then the whole suite (unit and integration tests against a real broker)
## and the deployment checks (ops/deploy/check.sh: container file, manifests, unit, dashboard,
## alerting rules, alert contract).
test: setup
	@$(ENV) swift build --build-tests $(RPATH) $(SWIFT_FLAGS)
	@bash ops/deploy/check.sh
	@$(ENV) swift test --skip-build $(RPATH) $(SWIFT_FLAGS)

## make deploy-check: the deployment checks alone (needs a debug build for the topology check).
deploy-check: setup
	@bash ops/deploy/check.sh

## make container-check: the container's build and runtime steps in a plain shell on Debian 12,
## without a Docker engine (ops/container/check-steps.sh; a release build: long).
container-check: setup
	@bash ops/container/check-steps.sh

## make demo: Vigil's main job on a local broker with sample traffic, alerts printed (ops/demo.sh;
## DEMO_ARGS=--raw prints the alerts' JSON). A debug build: it builds in less time than release.
demo: setup
	@$(ENV) swift build $(RPATH) $(SWIFT_FLAGS) --product vigil
	@bash ops/demo.sh $(DEMO_ARGS)

## make fuzz: libFuzzer + AddressSanitizer on each parser of outside input, FUZZ_SECONDS (600)
## per target (ops/fuzz/run.sh; a failure's input lands in .build/fuzz-work/artifacts).
fuzz: setup
	@bash ops/fuzz/run.sh $(FUZZ_TARGETS)

## make bench-kafka: KafkaIO throughput vs librdkafka's rdkafka_performance (ops/bench/kafka.sh).
bench-kafka: setup
	@$(ENV) swift build -c release $(RPATH) --product vigil-bench
	@bash ops/bench/kafka.sh

## make bench-pipeline: decode -> enrich -> detect in one thread, no broker (vigil bench) -> ops/bench/pipeline.md.
bench-pipeline: setup
	@$(ENV) swift build -c release $(RPATH) --product vigil
	@.build/release/vigil bench

## make bench-e2e: vigil run drains a raw backlog through the local broker; alert latency at half
## that rate (ops/bench/e2e.sh; EVENTS=, LATENCY_SECONDS=, PERF=1) -> ops/bench/e2e.md.
bench-e2e: setup
	@$(ENV) swift build -c release $(RPATH) --product vigil
	@$(ENV) swift build -c release $(RPATH) --product vigil-bench
	@bash ops/bench/e2e.sh

clean-deps:
	rm -rf .deps
