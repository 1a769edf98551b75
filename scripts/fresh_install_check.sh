#!/usr/bin/env bash
# Build the wheel, install it in a fresh virtual environment, make a new Django
# project configured only from README.md, and drive both onboarding flows and a
# signed webhook against the fake Stripe. See fresh_install_check.py.
#   PYTHON=python3.13 bash scripts/fresh_install_check.sh   # another Python
#   bash scripts/fresh_install_check.sh --keep               # keep the temp folder
set -euo pipefail
cd "$(dirname "$0")/.."
# The checker needs `build` (it makes a throwaway venv for it otherwise); the
# new project gets its own venv from PROJECT_PYTHON (default: python3).
exec "${PYTHON:-python3}" scripts/fresh_install_check.py --python "${PROJECT_PYTHON:-python3}" "$@"
