#!/usr/bin/env bash
# `make run`: the provider on http://127.0.0.1:${PORT:-5000} and the demo relying party on http://localhost:5001,
# both under gunicorn. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-5000}
export IDP_ISSUER=${IDP_ISSUER:-http://127.0.0.1:$PORT}
export DEMO_RP_ISSUER=${DEMO_RP_ISSUER:-$IDP_ISSUER}
DEMO_PORT=${DEMO_RP_PORT:-5001}
export DEMO_RP_BASE_URL=${DEMO_RP_BASE_URL:-http://localhost:$DEMO_PORT}

.venv/bin/gunicorn --bind "127.0.0.1:$DEMO_PORT" --workers 1 --threads 4 --log-level warning \
  'clients.demo_rp.app:create_app()' &
DEMO_PID=$!
trap 'kill $DEMO_PID 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  Provider:              $IDP_ISSUER   (discovery: $IDP_ISSUER/.well-known/openid-configuration)
  Demo relying party:    $DEMO_RP_BASE_URL
  Test people:           p0@example.com, p5@example.com, p9@example.com   password: demo-password-123

MSG
.venv/bin/idp serve
