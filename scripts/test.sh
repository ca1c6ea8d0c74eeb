#!/usr/bin/env bash
# The whole suite: once on SQLite (the embedded default), once on a real PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
echo "== test suite on SQLite =="
$PY -m pytest "$@"
echo "== test suite on PostgreSQL =="
bash scripts/with-postgres.sh $PY -m pytest -m "not e2e" "$@"
