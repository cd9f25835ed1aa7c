#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 and user postgres has password
# "postgres" (trust auth also works). Installs and starts one when needed (root only).
set -euo pipefail
answers() { PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -tAc "select 1" >/dev/null 2>&1; }

if ! command -v psql >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "Installing PostgreSQL"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql postgresql-client >/dev/null
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! answers; then
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
fi
answers || { echo "PostgreSQL does not accept user postgres on 127.0.0.1:5432" >&2; exit 1; }
