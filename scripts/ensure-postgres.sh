#!/usr/bin/env bash
# Make sure a local PostgreSQL is running with the test role and database the suite uses:
# role `ivr` (password `ivr-dev`, a development default), database `ivr_test`, on
# 127.0.0.1:5432. Idempotent.
set -euo pipefail
fail() { echo "postgres: $*" >&2; exit 1; }

ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 \
    || fail "PostgreSQL is not installed (apt-get install postgresql)"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    [ -n "$version" ] || fail "no PostgreSQL cluster in /etc/postgresql"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start \
        || fail "could not start cluster $version/main"
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    pg_isready -q -h 127.0.0.1 -p 5432 || fail "cluster started but 127.0.0.1:5432 does not answer"
fi
as_postgres() { su postgres -s /bin/sh -c "psql -qtAX -v ON_ERROR_STOP=1 $*"; }
if [ "$(as_postgres "-c \"SELECT 1 FROM pg_roles WHERE rolname='ivr'\"")" != 1 ]; then
    as_postgres "-c \"CREATE ROLE ivr LOGIN CREATEDB PASSWORD 'ivr-dev'\""
fi
if [ "$(as_postgres "-c \"SELECT 1 FROM pg_database WHERE datname='ivr_test'\"")" != 1 ]; then
    as_postgres "-c \"CREATE DATABASE ivr_test OWNER ivr\""
fi
echo "postgres: ready (ivr@127.0.0.1:5432/ivr_test)"
