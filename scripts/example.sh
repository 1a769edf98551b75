#!/usr/bin/env bash
# Set up and run the example platform on http://127.0.0.1:8000/.
# Offline by default (the project's fake Stripe); with STRIPE_SECRET_KEY (and
# STRIPE_CLIENT_ID, STRIPE_WEBHOOK_SECRETS) in the environment or in
# example_project/.env, it uses your Stripe test account instead.
# The flow is Account Links creating Accounts v2 accounts; STRIPE_ACCOUNTS_API=v1
# creates v1 accounts, and STRIPE_ONBOARDING=embedded (Stripe's onboarding
# component on the site's pages, and its components on the dashboard) or oauth
# picks another flow.
# PORT and FAKE_STRIPE_PORT change the ports; SKIP_INSTALL=1 skips pip.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
if [ -z "${SKIP_INSTALL:-}" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[example]"
fi
case "$VENV" in
  /*) py="$VENV/bin/python" ;;
  *) py="$(pwd)/$VENV/bin/python" ;;
esac

cd example_project
"$py" manage.py migrate --noinput
"$py" manage.py demo_users

port=${PORT:-8000}
if [ -z "${STRIPE_SECRET_KEY:-}" ] && ! grep -qs '^STRIPE_SECRET_KEY=.' .env; then
  fake_port=${FAKE_STRIPE_PORT:-12111}
  export FAKE_STRIPE_URL="http://127.0.0.1:${fake_port}"
  # Every change the fake makes to an account reaches the platform's webhook,
  # as Stripe's would: statuses change by webhook, as in production.
  "$py" -m django_stripe_express.testing --port "$fake_port" \
    --forward-to "http://127.0.0.1:${port}/stripe/webhook/" &
  fake_pid=$!
  trap 'kill "$fake_pid" 2>/dev/null || true' EXIT
  # Wait until the fake answers, so the first click never meets a refused connection.
  "$py" - "$FAKE_STRIPE_URL" <<'PY'
import sys, time, urllib.error, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1] + "/v1/accounts", timeout=1).close()
        break
    except urllib.error.HTTPError:
        break  # it answers (401 without a key): up
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(f"The fake Stripe did not start on {sys.argv[1]}")
PY
  echo "Offline: fake Stripe on $FAKE_STRIPE_URL (webhook secret whsec_fake), forwarding"
  echo "  account changes to http://127.0.0.1:${port}/stripe/webhook/"
  echo "  change an account as Stripe would:  $FAKE_STRIPE_URL/fake"
  offline=1
else
  # The settings refuse to start without STRIPE_WEBHOOK_SECRETS (and, for
  # OAuth, STRIPE_CLIENT_ID): never the fake's public credentials with real keys.
  echo "Using Stripe test mode with the keys from the environment or example_project/.env"
  offline=
fi
echo "Example platform on http://127.0.0.1:${port}/"
echo "  demo users (one-click login): http://127.0.0.1:${port}/demo/users/ (password: demo; DEBUG only)"
echo "  every button state:           http://127.0.0.1:${port}/demo/states/ (DEBUG only)"
echo "  the shop (buy a maker's item): http://127.0.0.1:${port}/shop/ (log in as bob, buy from alice)"
if [ -n "$offline" ]; then
  echo "  admin (as support):           http://127.0.0.1:${port}/admin/ (offline demo only)"
fi
# In the background and waited for: bash runs a trap only once its foreground
# command ends, so a TERM sent to this script's PID would otherwise leave the
# server running. Ctrl-C (INT) and TERM stop the server, then the fake (EXIT).
"$py" manage.py runserver "127.0.0.1:${port}" &
server_pid=$!
trap 'kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid"; exit 130' INT
trap 'kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid"; exit 143' TERM
wait "$server_pid"
