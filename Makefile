# Kordon: `make run` and `make test` set up everything they need (apt packages included).
SWIFT ?= swift
# Test tools installed by deploy/install-deps.sh --test come first on PATH.
export PATH := $(CURDIR)/.build/tools/bin:$(PATH)

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps test-deps build run test bench install clean

all: build

deps:
	@bash deploy/install-deps.sh

test-deps:
	@bash deploy/install-deps.sh --test

build: deps
	$(SWIFT) build -c release --product kordon

# The whole pipeline with no broker to set up: librdkafka's mock cluster in-process, fed by the
# simulator (config/demo.yaml). Ctrl-C stops it.
run: build
	.build/release/kordon run --config config/demo.yaml

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Benchmarks print figures beside a reference measured in the same run; they assert nothing.
bench: deps
	$(SWIFT) build -c release --product kordon-bench
	.build/release/kordon-bench decode
	.build/release/kordon-bench consume
	.build/release/kordon-bench engine
	.build/release/kordon-bench simulate
	.build/release/kordon-bench pipeline

# Binary, config (never overwriting an edited one), systemd unit, sysusers, tmpfiles, logrotate.
install: build
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" bash deploy/install.sh

clean:
	rm -rf .build
