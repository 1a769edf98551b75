"""Print the three request walks of tests/test_architecture.py, for before/after figures.

For each walk (POST connect in Account Links v2 mode, a thin
``v2.core.account.updated`` event at the webhook, the button tag for an enabled
account): the package modules it runs, in order of first entry, their count
and the switches between them (both defined in the test module's docstring).

    python scripts/walks.py            # with the project's virtualenv's python

It runs the ``test_walk_*`` tests with ``STRIPE_EXPRESS_PRINT_WALKS=1``; they
print whether or not they hold their thresholds (the figures are printed even
when a test fails; extra arguments go to pytest).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env = {**os.environ, "STRIPE_EXPRESS_PRINT_WALKS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "pytest", "tests/test_architecture.py", "-k", "test_walk_",
        "-s", "-q", "--tb=no", "-rN", "-p", "no:cacheprovider", *sys.argv[1:],
    ]
    code = subprocess.call(command, cwd=ROOT, env=env)  # noqa: S603 (our own command, no shell)
    return 0 if code in (0, 1) else code  # 1: some walk is over its threshold


if __name__ == "__main__":
    sys.exit(main())
