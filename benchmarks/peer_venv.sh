#!/usr/bin/env bash
# The peer's own virtual environment: dj-stripe pins Django >= 5.2 and
# stripe < 16, which this app's environment (stripe 16) cannot hold.
# Usage: bash benchmarks/peer_venv.sh [VENV]  (default benchmarks/.venv-djstripe)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-benchmarks/.venv-djstripe}
PYTHON=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "dj-stripe==2.11.0" "psycopg[binary]>=3.1" "django-environ>=0.11"
"$VENV/bin/python" -c "from importlib.metadata import version as v; print('dj-stripe', v('dj-stripe'), 'Django', v('django'), 'stripe', v('stripe'))"
