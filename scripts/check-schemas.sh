#!/usr/bin/env bash
# Fails when schemas/ differs from what the provider generates, so a schema change is always
# reviewed with its generated files. Fix with `make schemas`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

generated="$(mktemp -d)"
trap 'rm -rf "$generated"' EXIT
echo "[check-schemas.sh] building the provider and comparing its generated schemas with schemas/" >&2
cargo run -q -p terraform-provider-treeherder -- schema-files "$generated"
if ! diff -ru schemas "$generated"; then
    echo "error: schemas/ is out of date; run \`make schemas\` and commit the result" >&2
    exit 1
fi
echo "schemas/ is up to date"
