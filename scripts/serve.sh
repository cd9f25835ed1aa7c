#!/usr/bin/env bash
# Serve the app for `make run`: the job-queue worker (batch print runs, bulk sign-offs) in the
# background, the web server in the foreground; stopping the server stops the worker.
set -euo pipefail
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
export FLASK_APP=app.py
# Letters print a verification URL and QR code: they must point at this server.
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://$HOST:$PORT}

.venv/bin/flask letters worker &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
.venv/bin/flask run --host "$HOST" --port "$PORT" --no-debugger --no-reload --with-threads
