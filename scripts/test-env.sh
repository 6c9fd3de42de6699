#!/usr/bin/env bash
# Prints `export` lines pointing the provider's MySQL client tests (TREEHERDER_MYSQL_TEST_*) at
# the world's MariaDB: TLS with verify_identity and the RDS-like th_admin, instead of the
# machine's own server. Variables already set in the environment win. Use:
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
