#!/usr/bin/env bash
# Starts moto (an AWS emulator: RDS + EC2) on 127.0.0.1 with a port picked at run time, through
# scripts/moto_server.py (moto's server app plus a /__treeherder/ route that dates snapshots), and
# seeds it with Treeherder's production database shape (scripts/moto_seed.py).
# Writes .run/moto/env (AWS endpoint and dummy credentials) and .run/moto/seed.json.
# Already running -> re-seeds only what is missing (the seed is idempotent).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="$RUN_DIR/moto"
VENV="$TOOLS_DIR/moto"
PIDFILE="$DIR/pid"
LAUNCHER="$ROOT/scripts/moto_server.py"
ENVFILE="$DIR/env"

"$ROOT/scripts/install-moto.sh"
mkdir -p "$DIR"

answers() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/moto-api/"; }

if pid_alive "$PIDFILE" "$LAUNCHER" && [[ -s "$DIR/port" ]] && answers "$(cat "$DIR/port")"; then
    PORT="$(cat "$DIR/port")"
    log "moto already running on 127.0.0.1:$PORT"
else
    stop_pidfile "$PIDFILE" "$LAUNCHER" "stale moto"
    rm -f "$ENVFILE"
    # The free port can be taken before moto binds it: retry with a new one.
    for attempt in 1 2 3; do
        PORT="$(free_port)"
        log "starting moto_server on 127.0.0.1:$PORT"
        # The venv's python runs the launcher itself, so the recorded pid is the server.
        setsid "$VENV/bin/python" "$LAUNCHER" 127.0.0.1 "$PORT" \
            </dev/null >>"$DIR/server.log" 2>&1 &
        PID=$!
        echo "$PID" >"$PIDFILE"
        echo "$PORT" >"$DIR/port"
        status=0
        wait_ready "$PID" 60 answers "$PORT" || status=$?
        if ((status == 0)); then break; fi
        tail -n 20 "$DIR/server.log" >&2 || true
        if ((status == 1)); then
            stop_pidfile "$PIDFILE" "$LAUNCHER" "unready moto"
            die "moto_server did not answer within 60 s"
        fi
        log "moto_server exited during start-up (attempt $attempt)"
        ((attempt < 3)) || die "moto_server would not start (log: $DIR/server.log)"
    done
fi

URL="http://127.0.0.1:$PORT"
"$VENV/bin/python" "$ROOT/scripts/moto_seed.py" "$URL" >"$DIR/seed.json.tmp"
mv "$DIR/seed.json.tmp" "$DIR/seed.json"

cat >"$ENVFILE" <<ENV
TREEHERDER_MOTO_URL=$URL
AWS_ENDPOINT_URL=$URL
AWS_ENDPOINT_URL_RDS=$URL
AWS_ENDPOINT_URL_EC2=$URL
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_REGION=us-east-1
AWS_DEFAULT_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
ENV
log "moto ready on $URL (env: $ENVFILE)"
