# Entry points for developers and CI. Everything runs from this checkout: downloaded tools go to
# .tools/, running services and their data to .run/ (both git-ignored). Ports are picked at run
# time, so several checkouts can run side by side.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

ROOT := $(CURDIR)
# Two cores: two test threads per test binary (each Terraform test runs several processes).
TEST_THREADS ?= 2

export TREEHERDER_REPO_ROOT := $(ROOT)
export TREEHERDER_TERRAFORM ?= $(ROOT)/.tools/bin/terraform

.PHONY: tools build up down demo test fmt-check clippy schemas schemas-check bench

## tools: Debian packages (MariaDB, openssl, venv, npm) if missing, Terraform 1.0.3, moto, the
## Heroku Platform API declarations (npm @heroku-cli/schema).
tools:
	scripts/install-system-packages.sh
	scripts/install-terraform.sh
	scripts/install-moto.sh
	scripts/install-heroku-schema.sh

## build: every binary of the workspace (provider, sandbox, examples' bins).
build:
	cargo build --workspace --bins

## up: the acceptance world (MariaDB with TLS, moto, the Heroku sandbox). Idempotent.
up: tools build
	scripts/mysql-up.sh
	scripts/moto-up.sh
	scripts/sandbox-up.sh

## down: stop what `up` started (by recorded pid only).
down:
	scripts/down.sh

## demo: apply examples/treeherder/ against the world and show the second plan is empty.
demo: up
	scripts/demo.sh

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

## test: formatting, lints, the world, then every test of the workspace (every test binary
## runs even when one fails).
# The provider's MySQL client tests run against the world's MariaDB (scripts/test-env.sh).
test: fmt-check clippy schemas-check up
	rm -rf .run/tests
	test_env="$$(scripts/test-env.sh)"; eval "$$test_env"; \
	cargo test --workspace --no-fail-fast -- --test-threads=$(TEST_THREADS)

## schemas: regenerate schemas/ (the provider schema and each model's JSON Schema).
schemas:
	rm -rf schemas && cargo run -q -p terraform-provider-treeherder -- schema-files schemas/

## schemas-check: fail when schemas/ is not what the code generates (run `make schemas`).
schemas-check:
	scripts/check-schemas.sh

## bench: every benchmark, printing its figures (release builds; needs the world).
bench: up
	cargo build --release -p tfplugin --example file_provider
	cargo build --release -p terraform-provider-treeherder
	eval "$$(scripts/test-env.sh)" && TREEHERDER_PROVIDER_BIN=$(ROOT)/target/release/terraform-provider-treeherder cargo bench --workspace
