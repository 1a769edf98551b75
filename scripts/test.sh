#!/usr/bin/env bash
# Set up and run the whole test suite. SQLite by default; set DATABASE_URL
# (e.g. postgres://postgres@127.0.0.1:5432/test) to run it on PostgreSQL.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
if [ -z "${SKIP_INSTALL:-}" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # The browser tests drive the system's chromium (Debian: apt-get install
  # chromium) through Playwright, pinned in the `browser` extra; without
  # chromium they skip, saying so.
  "$VENV/bin/python" -m pip install -q -e ".[test,browser]"
fi
exec "$VENV/bin/python" -m pytest "$@"
