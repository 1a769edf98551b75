"""scripts/example.sh as a developer runs it: it stops, with the servers it
started, on Ctrl-C or on a TERM sent to its own PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .browser.server import EXAMPLE, REPO, free_port

pytestmark = pytest.mark.skipif(
    not EXAMPLE.is_dir(), reason="example_project/ is not here (an sdist ships without it)"
)


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_script_stops_the_platform_and_the_fake(tmp_path: Path, how: int):
    port, fake_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "PORT": str(port), "FAKE_STRIPE_PORT": str(fake_port), "SKIP_INSTALL": "1",
        # The venv running these tests, whatever its path.
        "VENV": str(Path(sys.executable).parent.parent),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'example.sqlite3'}",
        "STRIPE_SECRET_KEY": "", "DEBUG": "true",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    log = (tmp_path / "example.log").open("wb")
    # Its own session: whatever the test's outcome, nothing it started outlives it.
    script = subprocess.Popen(
        ["bash", str(REPO / "scripts" / "example.sh")], env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not (_answers(port) and _answers(fake_port)):
            assert script.poll() is None, (tmp_path / "example.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "example.log").read_text()
            time.sleep(0.2)

        os.kill(script.pid, how)  # the script's own PID, not its group

        script.wait(timeout=20)
        deadline = time.monotonic() + 10
        while (_answers(port) or _answers(fake_port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _answers(port), "runserver outlived the script"
        assert not _answers(fake_port), "the fake Stripe outlived the script"
    finally:
        # Whatever is left of the session the script started (nothing, if it worked).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, signal.SIGKILL)
        script.wait()
        log.close()
