#!/usr/bin/env bash
# Entrypoint for the offline PostgreSQL test image; mirrors the official image's behaviour for
# POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD_FILE / POSTGRES_PASSWORD and PGDATA.
set -euo pipefail

# Like the official image: "docker run IMAGE -c foo=bar" means "postgres -c foo=bar".
if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi
if [ "$1" != 'postgres' ]; then
    exec "$@"
fi

export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

# Started as root (the default): fix the data dir's ownership, then drop to user postgres.
as_postgres=()
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        password="$(< "$POSTGRES_PASSWORD_FILE")"
    else
        password="${POSTGRES_PASSWORD:-}"
    fi
    if [ -z "$password" ]; then
        echo 'error: database is uninitialised and no POSTGRES_PASSWORD(_FILE) is set' >&2
        exit 1
    fi

    # initdb reads the superuser password from a file, so it never shows in a process list.
    pwfile="$(mktemp)"
    trap 'rm -f "$pwfile"' EXIT
    printf '%s\n' "$password" > "$pwfile"
    [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
    unset password

    echo "initialising database cluster in $PGDATA"
    "${as_postgres[@]}" initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8
    rm -f "$pwfile"

    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"

    if [ "$POSTGRES_DB" != 'postgres' ]; then
        # A socket-only server: nothing outside the container sees the half-made database.
        "${as_postgres[@]}" pg_ctl --wait --silent -o "-c listen_addresses=''" start
        "${as_postgres[@]}" psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username="$POSTGRES_USER" \
            --dbname=postgres --set=db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db";'
        "${as_postgres[@]}" pg_ctl --wait --silent --mode=fast stop
    fi
    echo 'initialisation complete'
else
    echo "database cluster in $PGDATA already initialised; skipping init"
fi

unset POSTGRES_PASSWORD
# exec: postgres becomes PID 1 and receives the stop signal directly.
exec "${as_postgres[@]}" "$@"
