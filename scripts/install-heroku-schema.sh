#!/usr/bin/env bash
# Installs the npm package @heroku-cli/schema (TypeScript declarations of every Heroku Platform
# API resource, generated from Heroku's JSON hyper-schema) into .tools/heroku-schema/. The
# sandbox's schema test (acceptance/tests/sandbox_schema.rs) compares the sandbox's resource
# shapes with these declarations. Nothing of the package is part of the project.
# Fast no-op when the pinned version is already installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGE="@heroku-cli/schema"
VERSION="2.0.1"
PREFIX="$TOOLS_DIR/heroku-schema"
PKG_DIR="$PREFIX/node_modules/$PACKAGE"
DECLARATIONS="$PKG_DIR/lib/index.d.ts"

installed_version() {
    # package.json's "version", read without node so a check never needs a JavaScript runtime.
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$PKG_DIR/package.json" 2>/dev/null
}

if [[ -s "$DECLARATIONS" ]] && [[ "$(installed_version)" == "$VERSION" ]]; then
    exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js with npm (e.g. \`apt-get install npm\`, or run scripts/install-system-packages.sh)"

# Install into a scratch prefix and move it into place, so an interrupted install is never
# mistaken for a complete one. The npm cache stays inside .tools/ as well.
log "installing $PACKAGE@$VERSION from $(npm config get registry) into $PREFIX"
staging="$TOOLS_DIR/heroku-schema.tmp"
rm -rf "$staging"
mkdir -p "$staging"
printf '{ "name": "treeherder-heroku-schema", "private": true }\n' >"$staging/package.json"
npm install --prefix "$staging" --cache "$TOOLS_DIR/npm-cache" --no-save --no-package-lock \
    --no-audit --no-fund --ignore-scripts --loglevel=error "$PACKAGE@$VERSION" >&2
[[ -s "$staging/node_modules/$PACKAGE/lib/index.d.ts" ]] \
    || die "$PACKAGE@$VERSION has no lib/index.d.ts (npm install in $staging)"
rm -rf "$PREFIX"
mv "$staging" "$PREFIX"
[[ "$(installed_version)" == "$VERSION" ]] || die "expected $PACKAGE $VERSION in $PKG_DIR, got '$(installed_version)'"
log "$PACKAGE $VERSION installed: $DECLARATIONS"
