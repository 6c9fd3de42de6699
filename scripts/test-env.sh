#!/usr/bin/env bash
# Prints `export` lines pointing the provider's MySQL client tests (TREEHERDER_MYSQL_TEST_*) at
# the world's MariaDB: TLS with verify_identity and the RDS-like th_admin, instead of the
# machine's own server, and TREEHERDER_PG_URL at the PostgreSQL of scripts/postgres-up.sh (the
# `pg` state backend of examples/ci/'s tests). Variables already set in the environment win. Use:
#   eval "$(scripts/test-env.sh)"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ENVFILE="$RUN_DIR/mysql/env"
[[ -s "$ENVFILE" ]] || die "$ENVFILE missing: run 'make up'"
while IFS='=' read -r key value; do
    [[ "$key" =~ ^TREEHERDER_MYSQL_([A-Z_]+)$ ]] || continue
    test_key="TREEHERDER_MYSQL_TEST_${BASH_REMATCH[1]}"
    if [[ -z "${!test_key:-}" ]]; then
        printf 'export %s=%q\n' "$test_key" "$value"
    fi
done <"$ENVFILE"

PG_ENVFILE="$RUN_DIR/postgres/env"
[[ -s "$PG_ENVFILE" ]] || die "$PG_ENVFILE missing: run 'make up'"
if [[ -z "${TREEHERDER_PG_URL:-}" ]]; then
    printf 'export TREEHERDER_PG_URL=%q\n' "$(sed -n 's/^TREEHERDER_PG_URL=//p' "$PG_ENVFILE")"
fi
