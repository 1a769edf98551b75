#!/usr/bin/env bash
# Set up and run the example platform on http://127.0.0.1:8000/.
# Offline by default (the project's fake Stripe); with STRIPE_SECRET_KEY (and
# STRIPE_CLIENT_ID, STRIPE_WEBHOOK_SECRETS) in the environment or in
# example_project/.env, it uses your Stripe test account instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[example]"

cd example_project
../.venv/bin/python manage.py migrate --noinput
../.venv/bin/python manage.py demo_users

port=${PORT:-8000}
if [ -z "${STRIPE_SECRET_KEY:-}" ] && ! grep -qs '^STRIPE_SECRET_KEY=' .env; then
  fake_port=${FAKE_STRIPE_PORT:-12111}
  export FAKE_STRIPE_URL="http://127.0.0.1:${fake_port}"
  ../.venv/bin/python -m django_stripe_express.testing --port "$fake_port" &
  fake_pid=$!
  trap 'kill "$fake_pid" 2>/dev/null' EXIT
  echo "Offline: fake Stripe on $FAKE_STRIPE_URL"
fi
echo "Example platform on http://127.0.0.1:${port}/ (log in as alice / demo)"
../.venv/bin/python manage.py runserver "127.0.0.1:${port}"
