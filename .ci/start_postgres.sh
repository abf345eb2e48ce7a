#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the multi-worker tuning test and print its URL.
#
#   export SZSL_TEST_POSTGRES_URL=$(bash .ci/start_postgres.sh)
#
# Idempotent: installs postgresql with apt-get when missing, reuses a running cluster.
# Cluster in $SZSL_PG_DIR (default /tmp/szsl-pg), listening on 127.0.0.1:$SZSL_PG_PORT (5433),
# database szsl_test, user szsl (password szsl). Progress goes to stderr, the URL to stdout.
set -euo pipefail

PORT="${SZSL_PG_PORT:-5433}"
DIR="${SZSL_PG_DIR:-/tmp/szsl-pg}"
DB=szsl_test
USER_NAME=szsl
PASSWORD=szsl
log() { echo "start_postgres: $*" >&2; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bindir)" ]; then
    log "installing postgresql (apt-get)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
BIN="$(bindir)"
[ -n "$BIN" ] || { log "no PostgreSQL binaries found"; exit 1; }

# The server refuses to run as root: run it as the 'postgres' system user when we are root.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_pg() { su postgres -s /bin/bash -c "$*"; }
else
    as_pg() { bash -c "$*"; }
fi

mkdir -p "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
if [ ! -f "$DIR/data/PG_VERSION" ]; then
    log "initdb in $DIR/data"
    as_pg "'$BIN/initdb' -D '$DIR/data' -U postgres -A trust >/dev/null"
fi
if ! as_pg "'$BIN/pg_ctl' -D '$DIR/data' status" >/dev/null 2>&1; then
    log "starting on 127.0.0.1:$PORT"
    as_pg "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -o \"-p $PORT -k $DIR -c listen_addresses=127.0.0.1\" start" >&2
fi

psql_pg() { as_pg "'$BIN/psql' -h 127.0.0.1 -p $PORT -U postgres -v ON_ERROR_STOP=1 -qtA $*"; }
if [ -z "$(psql_pg "-c \"SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'\"")" ]; then
    psql_pg "-c \"CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD'\"" >&2
fi
if [ -z "$(psql_pg "-c \"SELECT 1 FROM pg_database WHERE datname='$DB'\"")" ]; then
    psql_pg "-c \"CREATE DATABASE $DB OWNER $USER_NAME\"" >&2
fi
log "ready"
echo "postgresql+psycopg2://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"
