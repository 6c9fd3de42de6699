#!/usr/bin/env bash
# A PostgreSQL server for the tests of examples/ci/ (Terraform's `pg` state backend): each test
# creates its own database on it and drops it after.
#   - $TREEHERDER_PG_URL when set and answering (any server a developer points us at);
#   - else a server already answering on 127.0.0.1:5432 as user postgres (some machines run one);
#   - else a private cluster under .run/postgres/ (Debian's PostgreSQL binaries, installed by
#     scripts/install-system-packages.sh when missing): trust auth, TCP on 127.0.0.1 only, a
#     port picked at run time. scripts/down.sh stops it; a server we did not start is left alone.
# Writes .run/postgres/env with TREEHERDER_PG_URL (a libpq URL of a database to connect to for
# CREATE DATABASE). Already running -> no-op.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DIR="$RUN_DIR/postgres"
DATADIR="$DIR/data"
PIDFILE="$DIR/pid"
ENVFILE="$DIR/env"
mkdir -p "$DIR"

PSQL="$(command -v psql || true)"
if [[ -z "$PSQL" ]]; then
    "$ROOT/scripts/install-system-packages.sh"
    PSQL="$(command -v psql || true)"
fi
[[ -n "$PSQL" ]] || die "psql not found even after installing postgresql"

answers() { "$PSQL" "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }
write_env() {
    printf 'TREEHERDER_PG_URL=%s\n' "$1" >"$ENVFILE"
    log "PostgreSQL ready at $1 (env: $ENVFILE)"
}

# Our own cluster, still running from an earlier `make up`.
if pid_alive "$PIDFILE" "$DATADIR" && [[ -s "$ENVFILE" ]] \
    && answers "$(sed -n 's/^TREEHERDER_PG_URL=//p' "$ENVFILE")"; then
    log "PostgreSQL already running ($(cat "$ENVFILE"))"
    exit 0
fi
for url in "${TREEHERDER_PG_URL:-}" "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"; do
    if [[ -n "$url" ]] && answers "$url"; then
        write_env "$url"
        exit 0
    fi
done

# None reachable: a private cluster with the newest installed major version.
find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN="$(find_pg_bin)"
if [[ -z "$BIN" || ! -x "$BIN/initdb" ]]; then
    "$ROOT/scripts/install-system-packages.sh"
    BIN="$(find_pg_bin)"
fi
[[ -n "$BIN" && -x "$BIN/initdb" ]] || die "PostgreSQL's initdb not found even after installing postgresql"

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` account
# (created by Debian's package).
as_owner=()
if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root and no 'postgres' user to own the cluster"
    as_owner=(runuser -u postgres --)
fi

stop_pidfile "$PIDFILE" "$DATADIR" "stale PostgreSQL"
rm -rf "$DATADIR" "$ENVFILE"
mkdir -p "$DATADIR"
if ((${#as_owner[@]} > 0)); then chown -R postgres "$DIR"; fi
chmod 700 "$DATADIR"
log "initialising cluster $DATADIR"
"${as_owner[@]}" "$BIN/initdb" -D "$DATADIR" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }

# The free port can be taken before the server binds it: retry with a new one.
for attempt in 1 2 3; do
    PORT="$(free_port)"
    URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
    log "starting postgres on 127.0.0.1:$PORT"
    setsid "${as_owner[@]}" "$BIN/postgres" -D "$DATADIR" -p "$PORT" -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories="$DIR" </dev/null >>"$DIR/server.log" 2>&1 &
    PID=$!
    status=0
    wait_ready "$PID" 60 answers "$URL" || status=$?
    if ((status == 0)); then
        # The postmaster's own pid (runuser forks it), whose command line names the datadir.
        head -n 1 "$DATADIR/postmaster.pid" >"$PIDFILE"
        write_env "$URL"
        exit 0
    fi
    tail -n 20 "$DIR/server.log" >&2 || true
    ((status == 2)) || { kill -TERM "$PID" 2>/dev/null || true; die "PostgreSQL did not become ready within 60 s"; }
    log "postgres exited during start-up (attempt $attempt)"
done
die "PostgreSQL would not start (log: $DIR/server.log)"
