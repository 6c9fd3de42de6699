#!/usr/bin/env bash
# Stops the acceptance world started by *-up.sh: only the processes whose pids this checkout
# recorded under .run/*/pid (never by name: other checkouts may run the same programs).
# Their env files go too, so tests see "not running" instead of stale addresses. Logs stay.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stop_pidfile "$RUN_DIR/sandbox/pid" "--state-file $RUN_DIR/sandbox/state.json" "sandbox"
stop_pidfile "$RUN_DIR/moto/pid" "$ROOT/scripts/moto_server.py" "moto"
stop_pidfile "$RUN_DIR/postgres/pid" "$RUN_DIR/postgres/data" "PostgreSQL"
stop_pidfile "$RUN_DIR/mysql/pid" "$RUN_DIR/mysql/my.cnf" "MariaDB"
rm -f "$RUN_DIR/sandbox/env" "$RUN_DIR/sandbox/addr" "$RUN_DIR/moto/env" "$RUN_DIR/mysql/env" "$RUN_DIR/postgres/env" "$RUN_DIR/mysql/mysqld.sock"
log "acceptance world stopped"
