#!/usr/bin/env bash
# Installs moto (the AWS emulator the RDS tests run against) in server mode, with boto3 for
# seeding, into the venv .tools/moto. moto 5.2.5 is the version aws-rds.md measured.
# Fast no-op when already installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MOTO_VERSION="5.2.5"
VENV="$TOOLS_DIR/moto"

if [[ -x "$VENV/bin/moto_server" ]] \
    && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null; then
    exit 0
fi

log "installing moto[server]==$MOTO_VERSION into $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" boto3
"$VENV/bin/python" -c "import moto, boto3, flask" || die "moto venv is incomplete"
log "moto $MOTO_VERSION installed"
