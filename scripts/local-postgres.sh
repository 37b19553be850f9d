#!/usr/bin/env bash
# Start a local PostgreSQL (Debian's cluster) with a `bff` role and the given databases.
# Used by CI and `make bench`; as root it installs the Debian package when missing.
# Prints the port of the cluster on its last line.
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL is not installed: run 'apt-get install postgresql' as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends postgresql
fi

PG_VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters --no-header | awk '{print $1" "$2}' | grep -qx "$PG_VERSION main"; then
    pg_createcluster "$PG_VERSION" main >&2
fi
pg_ctlcluster "$PG_VERSION" main start 2>/dev/null || true
PG_PORT="$(pg_lsclusters --no-header | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $3}')"
for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 1
done

# initdb refuses root, so everything goes through the Debian cluster's postgres user.
as_postgres() { su postgres -c "$1"; }
as_postgres "psql -p $PG_PORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname='bff'\"" | grep -q 1 \
    || as_postgres "psql -p $PG_PORT -c \"CREATE ROLE bff LOGIN PASSWORD 'bff' SUPERUSER\"" >&2
for database in "$@"; do
    as_postgres "psql -p $PG_PORT -tAc \"SELECT 1 FROM pg_database WHERE datname='$database'\"" \
        | grep -q 1 || as_postgres "createdb -p $PG_PORT -O bff $database"
done
echo "$PG_PORT"
