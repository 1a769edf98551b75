"""``WEBHOOK_PROCESSING = "task"`` with real worker processes, on PostgreSQL.

Two ``db_worker`` processes (django-tasks-db) run while 8 threads deliver a
shuffled burst with Stripe's redeliveries. Every delivery must be answered
200 without waiting for the workers, and once they are done every account
must be at its newest state, every event recorded once and applied (and
announced) once. Skipped on SQLite (see conftest).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from django_stripe_express.models import WebhookEvent

from .burst_support import account_histories
from .factories import ExpressAccountFactory

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def start_worker(name: str, signal_log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "PYTHONPATH": str(ROOT),
        "WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
        "WORKER_SIGNAL_LOG": str(signal_log),
    }
    command = [sys.executable, "-m", "django", "db_worker", "--no-startup-delay",
               "--no-reload", "--interval", "0.05", "--worker-id", name, "-v", "0"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def post(delivery: tuple[str, str]) -> tuple[int, bytes, float]:
    body, header = delivery
    started = time.monotonic()
    try:
        response = Client().post("/stripe/webhook/", data=body, content_type="application/json",
                                 HTTP_STRIPE_SIGNATURE=header)
        return response.status_code, response.content, time.monotonic() - started
    finally:
        connection.close()  # each thread has its own connection


def wait_until_done(workers: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(w.poll() is None for w in workers), "a worker died"
        events = WebhookEvent.objects.filter(status__in=["received", "failed"])
        tasks = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"])
        if not events.exists() and not tasks.exists():
            return
        time.sleep(0.1)
    raise AssertionError("the workers did not finish in time")


def test_a_burst_through_worker_processes(fake_stripe, settings, tmp_path):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_PROCESSING": "task"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    rng = random.Random(13)
    accounts = [ExpressAccountFactory(onboarding=True) for _ in range(50)]
    burst = account_histories(fake_stripe, accounts, rng)
    newest, event_ids = burst.newest, burst.event_ids
    deliveries = burst.signed + rng.sample(burst.signed, 100)  # 500, of which 20% redeliveries
    rng.shuffle(deliveries)
    signal_log = tmp_path / "signals.log"
    signal_log.touch()

    workers = [start_worker(f"worker-{i}", signal_log) for i in range(2)]
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(post, deliveries))
        wait_until_done(workers)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)

    assert Counter(status for status, _, _ in answers) == {200: 500}
    assert {content for _, content, _ in answers} <= {b"queued", b"duplicate"}
    slowest = max(seconds for _, _, seconds in answers)
    print(f"\n500 deliveries, slowest answer {slowest * 1000:.0f} ms")
    assert slowest < 5  # the request never waits for the workers (generous: shared CI)

    for account in accounts:
        account.refresh_from_db()
        created, email = newest[account.stripe_id]
        assert (account.email, account.status) == (email, "enabled")
        assert int(account.last_event_created.timestamp()) == created
    rows = WebhookEvent.objects.all()
    assert sorted(r.stripe_id for r in rows) == sorted(event_ids)  # each recorded once
    assert {(r.status, r.detail) for r in rows} <= {("processed", ""), ("ignored", "stale")}
    assert {r.attempts for r in rows} == {1}  # each processed once, by one task
    processed = {r.stripe_id for r in rows if r.status == "processed"}
    assert DBTaskResult.objects.exclude(status="SUCCESSFUL").count() == 0

    logged = Counter(tuple(line.split()) for line in signal_log.read_text().splitlines())
    assert {evt for (name, evt) in logged if name == "account_updated"} == processed
    assert {evt for (name, evt) in logged if name == "webhook_event"} == set(event_ids)
    assert set(logged.values()) == {1}  # one signal of each kind per event, no more
