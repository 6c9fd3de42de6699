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
# Terraform 1.0.3 (`make tools` installs it): what the tests run by default.
export TREEHERDER_TERRAFORM ?= $(ROOT)/.tools/bin/terraform
# A recent Terraform (>= 1.11, tested 1.11.4), preinstalled on the PATH: the acceptance tests
# run a second time with it, and tests of write-only attributes or ephemeral resources always
# use it. `make tools` checks it (scripts/check-terraform-latest.sh).
ifndef TREEHERDER_TERRAFORM_LATEST
TREEHERDER_TERRAFORM_LATEST := $(shell command -v terraform 2>/dev/null)
endif
export TREEHERDER_TERRAFORM_LATEST

.PHONY: tools build up down demo env test fmt-check clippy schemas schemas-check bench docs release

## tools: Debian packages (MariaDB, openssl, venv, npm) if missing, Terraform 1.0.3, moto, the
## Heroku Platform API declarations (npm @heroku-cli/schema), actionlint; checks the recent
## Terraform.
tools:
	scripts/install-system-packages.sh
	scripts/install-terraform.sh
	scripts/check-terraform-latest.sh
	scripts/install-moto.sh
	scripts/install-heroku-schema.sh
	scripts/install-actionlint.sh

## build: every binary of the workspace (provider, sandbox, examples' bins).
build:
	cargo build --workspace --bins

## up: the acceptance world (MariaDB with TLS, moto, the Heroku sandbox, PostgreSQL). Idempotent.
up: tools build
	scripts/mysql-up.sh
	scripts/moto-up.sh
	scripts/sandbox-up.sh
	scripts/postgres-up.sh

## down: stop what `up` started (by recorded pid only).
down:
	scripts/down.sh

## env: `export` lines with every provider setting for the running world, to try your own
## configuration against it: eval "$$(make -s env)".
env: up
	@scripts/world-env.sh

## demo: apply examples/treeherder/ against the world and show the second plan is empty.
demo: up
	scripts/demo.sh

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

## test: formatting, lints, the world, every test of the workspace (Terraform 1.0.3), then the
## acceptance tests again with the recent Terraform. Both runs go to the end even when tests fail.
# The provider's MySQL client tests run against the world's MariaDB (scripts/test-env.sh).
# The provider built at the upgrade base (TREEHERDER_UPGRADE_BASE) for provider_upgrade.rs;
# nothing to do once built for that commit.
test: fmt-check clippy schemas-check up
	scripts/build-upgrade-base.sh
	rm -rf .run/tests
	test_env="$$(scripts/test-env.sh)"; eval "$$test_env"; status=0; \
	echo "==> cargo test --workspace with TREEHERDER_TERRAFORM=$$TREEHERDER_TERRAFORM"; \
	cargo test --workspace --no-fail-fast -- --test-threads=$(TEST_THREADS) || status=$$?; \
	echo "==> cargo test -p acceptance with TREEHERDER_TERRAFORM=$$TREEHERDER_TERRAFORM_LATEST"; \
	TREEHERDER_TERRAFORM="$$TREEHERDER_TERRAFORM_LATEST" \
		cargo test -p acceptance --no-fail-fast -- --test-threads=$(TEST_THREADS) || status=$$?; \
	exit $$status

## schemas: regenerate schemas/ (the provider schema and each model's JSON Schema).
schemas:
	rm -rf schemas && cargo run -q -p terraform-provider-treeherder -- schema-files schemas/

## schemas-check: fail when schemas/ is not what the code generates (run `make schemas`).
schemas-check:
	scripts/check-schemas.sh

## bench: every benchmark, printing its figures (release builds; needs the world).
bench: up
	scripts/install-null-provider.sh
	cargo build --release -p tfplugin --example file_provider
	cargo build --release -p terraform-provider-treeherder
	eval "$$(scripts/test-env.sh)" && TREEHERDER_PROVIDER_BIN=$(ROOT)/target/release/terraform-provider-treeherder cargo bench --workspace

## docs: regenerate docs/ from the schemas, examples/ and templates/ (checked by `make test`).
docs:
	cargo run -q -p terraform-provider-treeherder -- docs .

## release: the registry packages of this version in dist/ (zip, manifest, SHA256SUMS and its
## GPG signature), signed with GPG_PRIVATE_KEY or GPG_FINGERPRINT from the environment.
release: tools
	scripts/release.sh
