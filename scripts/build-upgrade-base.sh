#!/usr/bin/env bash
# Builds the provider from a base git revision for the state-upgrade acceptance test
# (acceptance/tests/provider_upgrade.rs): Terraform state written by that build must plan empty
# with the current build.
#
# The revision is TREEHERDER_UPGRADE_BASE (default below). At each release, move the default to
# the previous release's commit, so the test covers the upgrade users actually make.
#
# The source is exported with `git archive` into .run/upgrade-base/src/<commit> and built with
# its own target dir (.run/upgrade-base/target: never the checkout's target/). The binary lands
# in .run/upgrade-base/bin/<full commit hash>/; when it is already there this script does nothing,
# so `make test` pays for the build once per base revision.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEFAULT_BASE=e1ae37b
BASE="${TREEHERDER_UPGRADE_BASE:-$DEFAULT_BASE}"
OUT="$RUN_DIR/upgrade-base"

# A shallow clone (CI's default fetch depth) lacks older commits: fail loudly, never skip.
if ! commit="$(git -C "$ROOT" rev-parse --verify --quiet "$BASE^{commit}")"; then
    hint="run 'git fetch --unshallow' (or fetch the commit) so the base revision is present"
    if [[ "$(git -C "$ROOT" rev-parse --is-shallow-repository 2>/dev/null)" == "true" ]]; then
        hint="this clone is shallow: $hint"
    fi
    die "upgrade base revision '$BASE' (TREEHERDER_UPGRADE_BASE) is not in this repository; $hint"
fi

BIN="$OUT/bin/$commit/terraform-provider-treeherder"
if [[ -x "$BIN" ]]; then
    log "base provider for $commit already built: $BIN"
    exit 0
fi

SRC="$OUT/src/$commit"
log "building the provider at $commit (upgrade base) into $OUT"
rm -rf "$SRC"
mkdir -p "$SRC" "$OUT/bin/$commit"
git -C "$ROOT" archive --format=tar "$commit" | tar -x -C "$SRC"
# The build's own target dir, shared by every base revision (dependencies are rebuilt once).
(cd "$SRC" && cargo build --locked -p terraform-provider-treeherder \
    --bin terraform-provider-treeherder --target-dir "$OUT/target")
# Copied under the commit's name, then renamed: a half-written binary never looks finished.
cp "$OUT/target/debug/terraform-provider-treeherder" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
rm -rf "$SRC"
log "base provider built: $BIN"
