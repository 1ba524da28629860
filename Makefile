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

# The daemon's main job comes with the pipeline; until then, a local broker for trying things out.
run: build
	.build/release/kordon dev-broker

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Benchmarks print figures beside a reference measured in the same run; they assert nothing.
bench: deps
	$(SWIFT) build -c release --product kordon-bench
	.build/release/kordon-bench decode
	.build/release/kordon-bench consume
	.build/release/kordon-bench engine
	.build/release/kordon-bench pipeline

# Binary, config (never overwriting an edited one), systemd unit, sysusers, tmpfiles, logrotate.
install: build
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" bash deploy/install.sh

clean:
	rm -rf .build
