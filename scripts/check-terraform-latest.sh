#!/usr/bin/env bash
# Finds the recent Terraform the acceptance tests also run with (1.11.4; at least 1.11 for
# write-only attributes and ephemeral resources): $TREEHERDER_TERRAFORM_LATEST if set, else
# `terraform` on the PATH. It is not downloaded: machines of this kind have it preinstalled.
# Fails with a message saying where to put one when it is missing or older.
# With --print, prints its absolute path on stdout (the Makefile exports it as
# TREEHERDER_TERRAFORM_LATEST).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MINIMUM="1.11"
TESTED="1.11.4"
HINT="put Terraform >= $MINIMUM (tested: $TESTED) on the PATH as \`terraform\`, or set TREEHERDER_TERRAFORM_LATEST to its path"

export CHECKPOINT_DISABLE=1

on_path="$(command -v terraform 2>/dev/null || true)"
if [[ -n "${TREEHERDER_TERRAFORM_LATEST:-}" ]]; then
    binary="$TREEHERDER_TERRAFORM_LATEST"
    # The Makefile exports the PATH's terraform as TREEHERDER_TERRAFORM_LATEST when unset.
    if [[ "$binary" == "$on_path" ]]; then origin="PATH"; else origin="TREEHERDER_TERRAFORM_LATEST"; fi
    [[ -x "$binary" && ! -d "$binary" ]] || die "TREEHERDER_TERRAFORM_LATEST=$binary is not an executable file: $HINT"
else
    binary="$on_path"
    origin="PATH"
    [[ -n "$binary" ]] || die "no \`terraform\` on the PATH: $HINT"
fi
binary="$(realpath -s "$binary")"

# `terraform version -json` (Terraform >= 0.13) prints {"terraform_version": "X.Y.Z", ...}.
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
version="$("$binary" version -json 2>"$errors" | python3 -c 'import json, sys; print(json.load(sys.stdin)["terraform_version"])' 2>/dev/null || true)"
if [[ -z "$version" ]]; then
    cat "$errors" >&2
    die "could not read the version of $binary (from $origin): $HINT"
fi
if ! python3 -c 'import sys; v = lambda s: tuple(int(p) for p in s.split("-")[0].split(".")[:2]); sys.exit(v(sys.argv[1]) < v(sys.argv[2]))' "$version" "$MINIMUM"; then
    die "$binary (from $origin) is Terraform v$version, older than $MINIMUM: $HINT"
fi

if [[ "${1:-}" == "--print" ]]; then
    echo "$binary"
else
    note=""
    [[ "$version" == "$TESTED" ]] || note=" (the suite is tested with $TESTED)"
    log "Terraform v$version at $binary (from $origin)$note"
fi
