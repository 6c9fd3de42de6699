#!/usr/bin/env bash
# Installs the Debian packages the acceptance world needs, only those missing:
# MariaDB (server and client), openssl (test CA), python3-venv (tool virtualenvs), curl, npm
# (installs the Heroku Platform API declarations the sandbox's schema test reads), zip and gnupg
# (`make release` and the installation tests), PostgreSQL (the `pg` state backend of examples/ci/,
# whose binaries scripts/postgres-up.sh uses when no server is running).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

missing=()
command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi

if ((${#missing[@]} > 0)); then
    apt_install "${missing[@]}"
fi
