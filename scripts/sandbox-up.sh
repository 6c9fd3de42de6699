#!/usr/bin/env bash
# Starts treeherder-sandbox (the local fake of Heroku's Platform API, Scheduler API and control
# endpoints) on a port the kernel picks, and writes .run/sandbox/env for the provider and tests.
# The binary comes from $TREEHERDER_SANDBOX_BIN (default: the debug build). Already running -> no-op.
# A fresh start begins from an empty world unless TREEHERDER_SANDBOX_KEEP_STATE=1.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="$RUN_DIR/sandbox"
PIDFILE="$DIR/pid"
ADDRFILE="$DIR/addr"
STATEFILE="$DIR/state.json"
ENVFILE="$DIR/env"
BIN="${TREEHERDER_SANDBOX_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/treeherder-sandbox}"
MARKER="--state-file $STATEFILE"

mkdir -p "$DIR"

answers() { curl -sS -o /dev/null --max-time 2 "$(cat "$ADDRFILE")/__control/"; }

if pid_alive "$PIDFILE" "$MARKER" && [[ -s "$ENVFILE" ]] && answers; then
    log "sandbox already running at $(cat "$ADDRFILE")"
    exit 0
fi

[[ -x "$BIN" ]] || die "sandbox binary $BIN not found: run 'make build' (or set TREEHERDER_SANDBOX_BIN)"

stop_pidfile "$PIDFILE" "$MARKER" "stale sandbox"
rm -f "$ADDRFILE" "$ENVFILE"
if [[ "${TREEHERDER_SANDBOX_KEEP_STATE:-0}" != "1" ]]; then rm -f "$STATEFILE"; fi

log "starting $BIN"
setsid "$BIN" --listen 127.0.0.1:0 --addr-file "$ADDRFILE" --state-file "$STATEFILE" \
    </dev/null >>"$DIR/server.log" 2>&1 &
PID=$!
echo "$PID" >"$PIDFILE"

if ! wait_until 30 test -s "$ADDRFILE"; then
    tail -n 30 "$DIR/server.log" >&2 || true
    kill -0 "$PID" 2>/dev/null || die "sandbox exited during start-up (log: $DIR/server.log)"
    die "sandbox did not write $ADDRFILE within 30 s"
fi
URL="$(head -n1 "$ADDRFILE" | tr -d '[:space:]')"
URL="${URL%/}"
[[ "$URL" =~ ^https?:// ]] || URL="http://$URL"

umask 077
cat >"$ENVFILE" <<ENV
HEROKU_API_URL=$URL
HEROKU_SCHEDULER_URL=$URL/scheduler
HEROKU_GITHUB_INTEGRATION_URL=$URL/github-integration
HEROKU_GITHUB_API_URL=$URL/github-api
HEROKU_API_KEY=sandbox-api-key
TREEHERDER_SANDBOX_CONTROL_URL=$URL/__control
ENV
log "sandbox ready at $URL (env: $ENVFILE)"
