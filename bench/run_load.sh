#!/usr/bin/env bash
# Load test: gunicorn (2 workers) on PostgreSQL with 200,000 cooperatives, locust on loopback.
#
#   bash bench/run_load.sh                       # 50 users, 10/s ramp, 5 minutes
#   USERS=5 RATE=5 DURATION=20s bash bench/run_load.sh
#   CLASSES="Viewer Inspector Clerk" bash bench/run_load.sh   # only these kinds of users
#
# The database (coop_load) is created and seeded once (~3 min); later runs reuse it. Traffic
# stays on 127.0.0.1. Prints requests, errors and p50/p95/p99 (ms) per request kind and in all.
set -euo pipefail
cd "$(dirname "$0")/.."

DB=${LOAD_DB:-coop_load}
PG=${PG:-postgresql+psycopg://postgres@127.0.0.1:5432}
USERS=${USERS:-50}
RATE=${RATE:-10}
DURATION=${DURATION:-5m}
COOPS=${COOPS:-200000}
ACTIVE=${ACTIVE:-40000}
PORT=${PORT:-8765}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
WORK=${WORK:-/tmp/coop_load}
BIN=.venv/bin

export FLASK_APP=app.py
export DATABASE_URL="$PG/$DB"
export INSTANCE_PATH="$WORK/instance"
export UPLOAD_DIR="$WORK/uploads" LETTER_DIR="$WORK/letters" HUEY_FILE="$WORK/jobs.sqlite3"
mkdir -p "$INSTANCE_PATH"

psql_url=${PG#postgresql+psycopg://}
if ! psql "postgresql://$psql_url/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
  psql "postgresql://$psql_url/postgres" -qc "CREATE DATABASE \"$DB\""
fi
$BIN/flask setup >/dev/null
if [ ! -s "$INSTANCE_PATH/demo-logins.txt" ]; then
  echo "Seeding $COOPS cooperatives ($ACTIVE active) into $DB (once)..."
  $BIN/flask demo seed --cooperatives "$COOPS" --active "$ACTIVE" >/dev/null || {
    echo "Seeding failed; if $DB already holds data from another run, drop it:" >&2
    echo "  psql postgresql://$psql_url/postgres -c 'DROP DATABASE $DB'" >&2
    exit 1
  }
fi

# Statistics and the visibility map as a running server has them (autovacuum): a freshly
# seeded table would make every count(*) read the whole heap.
psql "postgresql://$psql_url/$DB" -qc "VACUUM ANALYZE" >/dev/null

$BIN/gunicorn --workers "$WORKERS" --threads "$THREADS" --bind "127.0.0.1:$PORT" \
  --keep-alive 10 --access-logfile /dev/null --error-logfile "$WORK/gunicorn.log" app:app &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null; wait "$GUNICORN" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/login" 2>/dev/null && break
  sleep 0.2
done

echo "locust: $USERS users, ramp $RATE/s, $DURATION, gunicorn $WORKERS workers x $THREADS threads"
LOGINS_FILE="$INSTANCE_PATH/demo-logins.txt" COOPS="$COOPS" \
  $BIN/locust -f bench/locustfile.py --headless -u "$USERS" -r "$RATE" -t "$DURATION" \
  --host "http://127.0.0.1:$PORT" --csv "$WORK/result" --only-summary --loglevel WARNING ${CLASSES:-} \
  >"$WORK/locust.log" 2>&1 || true

$BIN/python - "$WORK/result_stats.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'request':<36} {'n':>7} {'errors':>6} {'p50':>6} {'p95':>6} {'p99':>6}")
for r in rows:
    name = r["Name"] if r["Name"] != "Aggregated" else "ALL"
    print(f"{(r['Type'] + ' ' + name).strip():<36} {r['Request Count']:>7} {r['Failure Count']:>6} "
          f"{r['50%']:>6} {r['95%']:>6} {r['99%']:>6}")
PY
FAILS="$WORK/result_failures.csv"
if [ -s "$FAILS" ] && [ "$(wc -l <"$FAILS")" -gt 1 ]; then
  echo "Failures:"; cat "$FAILS"
fi
