#!/usr/bin/env bash
# The demo: applies examples/treeherder/ with real Terraform 1.0.3 and the freshly built
# provider against the running acceptance world, then shows that a second plan is empty.
# Runs in .run/demo (state kept between demos; DEMO_FRESH=1 starts from an empty state).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

EXAMPLE_DIR="${DEMO_CONFIG_DIR:-$ROOT/examples/treeherder}"
DIR="$RUN_DIR/demo"
TERRAFORM="${TREEHERDER_TERRAFORM:-$TOOLS_DIR/bin/terraform}"
PROVIDER_BIN="${TREEHERDER_PROVIDER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/terraform-provider-treeherder}"
# The version the local mirror offers: the workspace's, which the binary reports too.
VERSION="$(workspace_version)"

shopt -s nullglob
configs=("$EXAMPLE_DIR"/*.tf "$EXAMPLE_DIR"/*.tf.json "$EXAMPLE_DIR"/*.tfvars)
shopt -u nullglob
((${#configs[@]} > 0)) || die "no Terraform files in $EXAMPLE_DIR"
[[ -x "$TERRAFORM" ]] || die "$TERRAFORM missing: run 'make tools'"
[[ -x "$PROVIDER_BIN" ]] || die "$PROVIDER_BIN missing: run 'make build'"
for service in mysql moto sandbox; do
    [[ -s "$RUN_DIR/$service/env" ]] || die "$service is not running: run 'make up'"
done

if [[ "${DEMO_FRESH:-0}" == "1" ]]; then rm -rf "$DIR"; fi
mkdir -p "$DIR/work"

# The provider goes into a private mirror; the lock file and provider cache are dropped so
# a rebuilt binary never trips the lock file's checksum.
rm -rf "$DIR/work/.terraform" "$DIR/work/.terraform.lock.hcl"
CLI_CONFIG="$(local_mirror "$DIR")"

find "$DIR/work" -maxdepth 1 \( -name '*.tf' -o -name '*.tf.json' -o -name '*.tfvars' \) -delete
cp "${configs[@]}" "$DIR/work/"

set -a
for service in mysql moto sandbox; do
    # shellcheck disable=SC1090
    source "$RUN_DIR/$service/env"
done
set +a
export TF_CLI_CONFIG_FILE="$CLI_CONFIG" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
unset TF_LOG TF_CLI_ARGS TF_DATA_DIR TF_REATTACH_PROVIDERS

cd "$DIR/work"
echo "==> terraform init ($("$TERRAFORM" version | head -n1), config $EXAMPLE_DIR)"
"$TERRAFORM" init -input=false -no-color
# Objects that already exist (Treeherder's Scheduler jobs) are adopted, not duplicated: each
# example file lists its `# terraform import ADDRESS ID` lines, run once per state.
while read -r address id; do
    [[ -n "$("$TERRAFORM" state list "$address" 2>/dev/null)" ]] && continue
    echo "==> terraform import $address $id"
    "$TERRAFORM" import -input=false -no-color "$address" "$id"
done < <(sed -nE 's/^#[[:space:]]+terraform import ([^[:space:]]+)[[:space:]]+([^[:space:]]+)$/\1 \2/p' ./*.tf)

echo "==> terraform apply -auto-approve"
"$TERRAFORM" apply -auto-approve -input=false -no-color
echo "==> terraform plan -detailed-exitcode (must be empty)"
set +e
"$TERRAFORM" plan -detailed-exitcode -input=false -no-color
code=$?
set -e
case "$code" in
    0) echo "==> The second plan is empty: the infrastructure matches the configuration." ;;
    2) die "the second plan is NOT empty: the provider does not converge (see the plan above)" ;;
    *) die "terraform plan failed (exit code $code)" ;;
esac
