"""The example project, served for real on 127.0.0.1 for end-to-end tests.

It runs in its own process (`manage.py runserver --noreload`) with its own
settings and a fresh SQLite file, exactly as `scripts/example.sh` runs it,
and talks to a fake Stripe that the test process owns. Nothing is shared with
the test suite's Django settings or database.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example_project"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ExampleServer:
    """`manage.py migrate`, `demo_users`, then `runserver` on a free port."""

    def __init__(self, workdir: Path, fake_stripe_url: str, **env: str) -> None:
        self.workdir = workdir
        self.db_path = workdir / "example.sqlite3"
        self.log_path = workdir / "runserver.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "FAKE_STRIPE_URL": fake_stripe_url,
            # Empty means offline, whatever a developer's `.env` says.
            "STRIPE_SECRET_KEY": "",
            "DEBUG": "true",
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            "PYTHONWARNINGS": "error::DeprecationWarning",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``manage.py *args`` with this server's environment, whatever its outcome."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=EXAMPLE, env=self.env, capture_output=True, text=True, timeout=120,
            check=False,
        )

    def manage(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def start(self) -> ExampleServer:
        self.manage("migrate", "--noinput")
        self.manage("demo_users")
        with self.log_path.open("wb") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}",
                 "--noreload"],
                cwd=EXAMPLE, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"runserver exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise RuntimeError(f"runserver did not answer in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def errors(self) -> list[str]:
        """Server errors so far: tracebacks and 5xx answers in the runserver log."""
        lines = self.log().splitlines()
        return [
            line for line in lines
            if "Traceback" in line or '" 50' in line or "Internal Server Error" in line
        ]

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the example project's database directly (what it really stored)."""
        # closing(): sqlite3's own context manager commits but never closes.
        with contextlib.closing(sqlite3.connect(self.db_path)) as connection:
            return list(connection.execute(sql, params))

    def account_of(self, username: str) -> tuple[Any, ...] | None:
        """(stripe_id, status, deauthorized_at) of `username`'s Express account."""
        rows = self.query(
            "SELECT a.stripe_id, a.status, a.deauthorized_at"
            " FROM django_stripe_express_expressaccount a"
            " JOIN auth_user u ON u.id = a.user_id WHERE u.username = ?",
            username,
        )
        return rows[0] if rows else None

    def __enter__(self) -> ExampleServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
