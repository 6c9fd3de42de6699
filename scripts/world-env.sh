#!/usr/bin/env bash
# Prints `export` lines with every provider setting for the running world (the sandbox's
# Heroku and Scheduler URLs and key, the MariaDB endpoint, user, password and CA, moto's AWS
# endpoint and credentials), and a Terraform CLI configuration that installs the provider
# built from this checkout. To try your own configuration against the world:
#   make up && eval "$(scripts/world-env.sh)" && terraform init && terraform apply
# (`make env` prints the same lines.)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The version the local mirror offers: the workspace's, which the binary reports too.
VERSION="$(workspace_version)"
PROVIDER_BIN="${TREEHERDER_PROVIDER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/terraform-provider-treeherder}"
[[ -x "$PROVIDER_BIN" ]] || die "$PROVIDER_BIN missing: run 'make build'"

for service in mysql moto sandbox; do
    envfile="$RUN_DIR/$service/env"
    [[ -s "$envfile" ]] || die "$service is not running: run 'make up'"
    while IFS='=' read -r key value; do
        [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
        printf 'export %s=%q\n' "$key" "$value"
    done <"$envfile"
done

# A private mirror holding the local build, as `make demo` uses it.
DIR="$RUN_DIR/world-env"
printf 'export TF_CLI_CONFIG_FILE=%q\n' "$(local_mirror "$DIR" --registry-for-others)"
echo "# world settings for the provider; a rebuilt provider needs 'rm -rf .terraform .terraform.lock.hcl' before 'terraform init'" >&2
