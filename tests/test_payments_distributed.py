"""Exactly once on a real distributed engine: worker processes killed mid-run.

``PAYMENTS_PROCESSING = "task"`` with real worker processes, on PostgreSQL:
RQ on Redis (django-tasks-rq, ``rqworker`` with RQ's ``SimpleWorker``, which
runs each job in the worker's own process) and the database backend
(django-tasks-db, ``db_worker``). 2,000 ``pay()`` calls from 8 threads, one in
ten repeating an earlier reference; the fake Stripe drops 5 % of the answers
to ``POST /v1/transfers`` after making the transfer; once a third of the
transfers are sent, one worker is killed with SIGKILL in the middle of a job
and a new one started.

What recovers what:

- an answer dropped after Stripe made the transfer: on RQ, with the app's
  default ``MAX_NETWORK_RETRIES`` (2), the ``stripe`` library sends the same
  request with the same idempotency key, and Stripe answers with the transfer
  it made. The database backend's run and the webhook run have no retries:
  the row stays ``pending`` with its key (as after retries all lost too), and
  is settled like the killed worker's (below), or by another task for the same
  row (a repeated ``pay()`` hands a pending row over again);
- the job the killed worker was running: neither engine runs it again (RQ
  leaves it in its started-job registry until it expires, then files it as
  failed with ``AbandonedJobError``; django-tasks-db leaves it ``RUNNING``).
  Its row stays ``pending``, with its key if the request may have left;
- both are what ``manage.py stripe_express_transfers`` is for (docs/payments.md:
  "run it from cron, every few minutes, as a safety net"): the test runs it as
  cron would once the workers are idle, until nothing is pending.

Then every reference is ``sent``, a repeated call returned the same row, and
the fake holds exactly one transfer per reference. The same run in webhook
task mode on RQ, on payday while the payees finish onboarding: the pay()
calls and the account histories (``account.updated`` bursts with Stripe's
redeliveries) are interleaved on 8 threads; a transfer to an account still
onboarding is held, and the event that finishes its onboarding, applied by an
RQ worker, releases it to the same workers, one of them killed mid-job (a
worker deciding while that event commits waits for the account's row, so
none is left held: test_payments_postgres proves the race alone). An event
whose task was lost with the worker stays *received*:
``stripe_express_webhooks --process-waiting``, as cron runs it, applies it.

Each run prints its figures (``-s``): duration, answers dropped, keys sent
again, the killed worker's job, what the command did.

Marked ``distributed``: CI runs them once, in .ci/run's PostgreSQL pass (the
tox matrix leaves them out). Skipped on SQLite (see conftest); without Redis
the RQ runs skip, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from django_stripe_express import payments
from django_stripe_express.models import Transfer, WebhookEvent
from django_stripe_express.payments.transfers import REFERENCE_KEY

from .burst_support import account_histories
from .factories import ExpressAccountFactory
from .payments_support import payable_account

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
CALLS = 2000
REPEATS = CALLS // 10
DROP_CHANCE = 0.05
pytestmark = [pytest.mark.postgres, pytest.mark.distributed,
              pytest.mark.django_db(transaction=True)]

Status = Transfer.Status


# -- the engines ----------------------------------------------------------------------
@pytest.fixture
def redis_queue(settings) -> Any:
    """RQ's ``default`` queue on Redis (``TEST_REDIS_URL``), emptied; skipped
    without Redis, but with ``CI=true`` a missing Redis fails the run."""
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    _clear_rq(client)
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend",
                                  "QUEUES": ["default"]}}
    import django_rq

    yield django_rq.get_queue("default")
    _clear_rq(client)
    client.close()


def _clear_rq(client: Any) -> None:
    keys = list(client.scan_iter("rq:*"))
    if keys:
        client.delete(*keys)


@dataclass
class Engine:
    """Starts, kills and watches the worker processes of one task backend."""

    name: str
    stripe_express: dict[str, Any]
    signal_log: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)
    #: What the killed workers were running when killed: (task, argument, job id).
    lost: list[tuple[str, Any, str]] = field(default_factory=list)

    def start(self, worker: str) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "PYTHONPATH": str(ROOT),
            "WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
            "WORKER_SIGNAL_LOG": str(self.signal_log),
            "WORKER_STRIPE_EXPRESS": json.dumps(self.stripe_express),
        }
        if self.name == "rq":
            env |= {"WORKER_TASKS": "rq", "WORKER_REDIS_URL": REDIS_URL}
            # django-tasks-rq's documented worker; SimpleWorker runs each job in
            # this process (no fork per job), so SIGKILL stops the job too.
            command = ["rqworker", "--job-class", "django_tasks_rq.Job",
                       "--worker-class", "rq.worker.SimpleWorker", "--name", worker,
                       "default"]
        else:
            command = ["db_worker", "--no-startup-delay", "--no-reload", "--interval",
                       "0.05", "--worker-id", worker]
        self.workers[worker] = subprocess.Popen(
            [sys.executable, "-m", "django", *command, "-v", "0"], cwd=ROOT, env=env)

    def kill(self, worker: str) -> None:
        process = self.workers.pop(worker)
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.killed.append(worker)
        self.lost += self.running_on(worker)

    def running_on(self, worker: str) -> list[tuple[str, Any, str]]:
        """The job the worker is (or was, when killed) running: (task, argument, job id)."""
        if self.name == "rq":
            import django_rq
            from django_tasks_rq import Job

            queue = django_rq.get_queue("default", job_class=Job)
            job_id = queue.connection.hget(f"rq:worker:{worker}", "current_job")
            job = queue.fetch_job(job_id.decode()) if job_id else None
            if job is None:
                return []
            return [(job.func_name.rpartition(".")[2], job.args[0], job.id)]
        from django_tasks_db.models import DBTaskResult

        return [(r.task_path.rpartition(".")[2], r.args_kwargs["args"][0], str(r.pk))
                for r in DBTaskResult.objects.filter(status="RUNNING")
                if r.worker_ids and r.worker_ids[-1] == worker]

    def job_status(self, job_id: str) -> str:
        """What the engine says of a job now (the killed worker's: still started)."""
        if self.name == "rq":
            import django_rq
            from django_tasks_rq import Job

            job = django_rq.get_queue("default", job_class=Job).fetch_job(job_id)
            return str(getattr(job.get_status(), "value", "")) if job else "gone"
        from django_tasks_db.models import DBTaskResult

        return str(DBTaskResult.objects.get(pk=job_id).status)

    def stop(self) -> None:
        for process in self.workers.values():
            process.send_signal(signal.SIGTERM)
        for process in self.workers.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def check_alive(self) -> None:
        dead = [name for name, p in self.workers.items() if p.poll() is not None]
        assert not dead, f"worker(s) died: {dead}"

    def _rq_running(self) -> tuple[int, list[Any]]:
        """RQ: the jobs queued, and those started (with django-tasks-rq's job
        class, as its workers see them: RQ may file an expired one as failed
        while listing, and calls django-tasks-rq's callback)."""
        import django_rq
        from django_tasks_rq import Job
        from rq.registry import StartedJobRegistry

        queue = django_rq.get_queue("default", job_class=Job)
        started = StartedJobRegistry(queue=queue, job_class=Job)
        jobs = [queue.fetch_job(j) for j in started.get_job_ids()]
        return queue.count, [job for job in jobs if job is not None]

    def idle(self) -> bool:
        """Nothing queued, and no job running but the killed workers' (lost)."""
        # A job counts as running on a live worker only: the killed one's stays
        # "started" (and may not even name its worker, if the kill came while
        # RQ was starting it).
        if self.name == "rq":
            queued, jobs = self._rq_running()
            return not queued and not any(job.worker_name in self.workers for job in jobs)
        from django_tasks_db.models import DBTaskResult

        if DBTaskResult.objects.filter(status="READY").exists():
            return False
        running = DBTaskResult.objects.filter(status="RUNNING")
        return not any(set(r.worker_ids) & set(self.workers) for r in running)

    def state(self) -> str:
        """What the workers are at, for a failure's message."""
        if self.name == "rq":
            queued, jobs = self._rq_running()
            return f"{queued} queued; running: " + ", ".join(
                f"{job.func_name}{tuple(job.args)} on {job.worker_name}" for job in jobs)
        from django_tasks_db.models import DBTaskResult

        return str(Counter(DBTaskResult.objects.values_list("status", flat=True)))

    def wait_idle(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            self.check_alive()
            quiet = quiet + 1 if self.idle() else 0
            if quiet >= 3:  # three looks in a row: no job handed over meanwhile
                return
            time.sleep(0.2)
        statuses = Counter(Transfer.objects.values_list("status", flat=True))
        events = Counter(WebhookEvent.objects.values_list("status", flat=True))
        raise AssertionError(f"the {self.name} workers did not finish in {timeout} s: "
                             f"{self.state()}; transfers {statuses}; events {events}")


@pytest.fixture
def engine_for(settings, tmp_path) -> Any:
    started: list[Engine] = []

    def make(name: str) -> Engine:
        value = dict(settings.STRIPE_EXPRESS)
        engine = Engine(name, value, tmp_path / "signals.log")
        engine.signal_log.touch()
        started.append(engine)
        return engine

    yield make
    for engine in started:
        engine.stop()


def task_mode(settings: Any, fake: Any, *, retries: bool, **more: Any) -> None:
    """Task mode at full speed (no pacing). ``retries``: the app's default
    ``MAX_NETWORK_RETRIES`` (2), so the ``stripe`` library sends a request whose
    answer was lost again with its key; else none, so every lost answer is left
    to the command."""
    value = {**settings.STRIPE_EXPRESS, "PAYMENTS_PROCESSING": "task",
             "PAYMENTS_RATE_LIMIT": 0, "TIMEOUT": 10, **more}
    if retries:
        value.pop("MAX_NETWORK_RETRIES")
    else:
        value["MAX_NETWORK_RETRIES"] = 0
    settings.STRIPE_EXPRESS = value
    fake.add_funds(10**9, "usd")
    fake.drop_after_commit("POST /v1/transfers", times=10**9, chance=DROP_CHANCE, seed=25)


# -- the run ----------------------------------------------------------------------------
@dataclass
class Calls:
    """2,000 pay() calls: each reference once, then 10 % of them again, shuffled."""

    references: list[str]
    calls: list[tuple[str, int]]  # (reference, payee index)

    @classmethod
    def make(cls, payees: int, rng: random.Random) -> Calls:
        references = [f"order:{n}:seller:{n % payees}" for n in range(CALLS - REPEATS)]
        calls = [(ref, n % payees) for n, ref in enumerate(references)]
        calls += [calls[n] for n in rng.sample(range(len(calls)), REPEATS)]
        rng.shuffle(calls)
        return cls(references, calls)


def pay_one(call: tuple[str, int], users: list[Any]) -> tuple[str, int]:
    """One pay() in a thread of its own; (reference, the row's pk)."""
    reference, payee = call
    try:
        return reference, payments.pay(users[payee], 100 + payee, "usd", reference).pk
    finally:
        connection.close()  # each thread has its own connection


def pay_from_threads(calls: list[tuple[str, int]], users: list[Any]) -> list[tuple[str, int]]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda call: pay_one(call, users), calls))


def kill_one_when(engine: Engine, victim: str, replacement: str,
                  ready: Callable[[], bool], timeout: float = 300) -> threading.Thread:
    """In the background: once ``ready()``, SIGKILL ``victim`` in the middle of a job
    and start ``replacement``."""
    done = threading.Event()

    def watch() -> None:
        try:
            deadline = time.monotonic() + timeout
            # Mid-job: once ready, when the victim is running a job.
            while time.monotonic() < deadline and not (ready() and engine.running_on(victim)):
                time.sleep(0.01)
            engine.kill(victim)
            engine.start(replacement)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def sent_count() -> int:
    return Transfer.objects.filter(status=Status.SENT).count()


@dataclass
class Recovery:
    pending_after_workers: Counter[str]
    command_runs: int
    command_output: str
    requests: int  # POST /v1/transfers the command made


def recover_with_the_command(fake: Any, max_runs: int = 5) -> Recovery:
    """What cron does: ``stripe_express_transfers`` until nothing is pending
    (it exits with an error while something is; cron runs it again)."""
    left = Counter(action for _, action in payments.outstanding())
    before = len(fake.requests_to("/v1/transfers", "POST"))
    output = io.StringIO()
    for run in range(1, max_runs + 1):
        try:
            call_command("stripe_express_transfers", stdout=output)
        except CommandError:
            continue
        made = len(fake.requests_to("/v1/transfers", "POST")) - before
        return Recovery(left, run, output.getvalue(), made)
    raise AssertionError(f"still pending after {max_runs} runs:\n{output.getvalue()}")


def assert_each_reference_paid_once(fake: Any, references: list[str],
                                    answers: list[tuple[str, int]]) -> None:
    rows = {t.reference: t for t in Transfer.objects.all()}
    assert sorted(rows) == sorted(references)  # none lost, none extra
    assert Counter(t.status for t in rows.values()) == {Status.SENT: len(references)}
    # A repeated call returned the row of the first.
    for reference, pk in answers:
        assert rows[reference].pk == pk
    made = fake.transfers_made()
    per_reference = Counter(t["metadata"][REFERENCE_KEY] for t in made)
    duplicates = {ref: n for ref, n in per_reference.items() if n != 1}
    assert duplicates == {}
    assert sorted(per_reference) == sorted(references)
    assert {t["metadata"][REFERENCE_KEY]: t["id"] for t in made} == {
        ref: row.stripe_id for ref, row in rows.items()}


def retried_keys(fake: Any) -> int:
    """Idempotency keys sent more than once to ``POST /v1/transfers``."""
    keys = Counter(r.header("idempotency-key") for r in fake.requests_to("/v1/transfers", "POST"))
    return sum(1 for n in keys.values() if n > 1)


def lost_work(engine: Engine) -> list[str]:
    """What each job lost with the killed worker had left, once the others were
    idle, and what the engine says of that job."""
    said = []
    for task, argument, job_id in engine.lost:
        job = f"job {engine.job_status(job_id)}"
        if task == "send_transfer":
            row = Transfer.objects.get(pk=argument)
            state = row.status if row.status != Status.PENDING else (
                "pending, its request sent: the command asks again with its key"
                if row.key_used_at else "pending, never sent: the command sends it")
            said.append(f"transfer {row.reference} ({job}): {state}")
        else:
            event = WebhookEvent.objects.get(stripe_id=argument)
            said.append(f"event {argument} ({job}): {event.status}")
    return said


def report(label: str, seconds: float, fake: Any, engine: Engine, said: list[str],
           recovery: Recovery,
           phases: tuple[float, float]) -> None:
    print(f"\n{label}: {CALLS} pay() from 8 threads, all sent in {seconds:.1f} s (the "
          f"calls took {phases[0]:.1f} s, the workers were idle at {phases[1]:.1f} s)")
    print(f"  answers dropped by the fake: {fake.dropped}; idempotency keys sent more than "
          f"once (retries): {retried_keys(fake)}; 429s: {fake.rate_limited}")
    print(f"  killed {engine.killed}; the job it was running: {'; '.join(said) or 'none'}")
    print(f"  pending once the workers were idle, by the command's action: "
          f"{dict(recovery.pending_after_workers) or 'none'}; the command ran "
          f"{recovery.command_runs} time(s) and sent {recovery.requests} request(s); "
          f"duplicates at the fake: 0")


# RQ with the library's retries (the default); the database backend without,
# so that there the command settles every lost answer: both paths, each run.
@pytest.mark.parametrize(("backend", "retries"), [("rq", True), ("db", False)],
                         ids=["rq", "db"])
def test_pay_with_a_worker_killed_mid_run(
    backend, retries, settings, fake_stripe, engine_for, request
):
    if backend == "rq":
        request.getfixturevalue("redis_queue")
    else:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    task_mode(settings, fake_stripe, retries=retries)
    rng = random.Random(25)
    payees = [payable_account(fake_stripe) for _ in range(50)]
    users = [p.user for p in payees]
    plan = Calls.make(len(payees), rng)
    engine = engine_for(backend)
    for n in range(3):
        engine.start(f"{backend}-worker-{n}")

    started = time.monotonic()
    third = len(plan.references) // 3
    killer = kill_one_when(engine, f"{backend}-worker-0", f"{backend}-worker-3",
                           lambda: sent_count() >= third)
    answers = pay_from_threads(plan.calls, users)
    paid = time.monotonic() - started
    killer.join(timeout=300)
    assert engine.killed == [f"{backend}-worker-0"]
    engine.wait_idle()
    idle = time.monotonic() - started
    said = lost_work(engine)
    recovery = recover_with_the_command(fake_stripe)
    seconds = time.monotonic() - started

    assert_each_reference_paid_once(fake_stripe, plan.references, answers)
    assert fake_stripe.dropped > 0
    assert len(engine.lost) <= 1  # one worker killed: at most the job it was running
    report(f"pay() on {backend}", seconds, fake_stripe, engine, said, recovery,
           (paid, idle))


# -- webhook task mode on RQ --------------------------------------------------------------
def deliver(delivery: tuple[str, str]) -> int:
    body, header = delivery
    try:
        response = Client().post("/stripe/webhook/", data=body, content_type="application/json",
                                 HTTP_STRIPE_SIGNATURE=header)
        return response.status_code
    finally:
        connection.close()


def process_waiting_events_with_the_command() -> int:
    """What cron does for an event whose task was lost with its worker (answered
    200, so Stripe does not send it again): ``stripe_express_webhooks
    --process-waiting`` (here with 0 minutes: the workers are idle)."""
    output = io.StringIO()
    call_command("stripe_express_webhooks", "--process-waiting", "0", stdout=output)
    last = output.getvalue().strip().splitlines()[-1]
    assert last.endswith("processed, 0 failed again."), output.getvalue()
    return int(last.split()[0])


def test_webhook_task_mode_on_rq_with_a_worker_killed_mid_run(
    settings, fake_stripe, engine_for, redis_queue
):
    """Payday while the payees finish onboarding: 2,000 pay() and the accounts'
    webhook bursts, interleaved on 8 threads. A transfer for an account still
    onboarding is held; the event that finishes onboarding, applied by an RQ
    worker, releases it to the same workers."""
    task_mode(settings, fake_stripe, retries=False, WEBHOOK_PROCESSING="task")
    rng = random.Random(26)
    accounts = [ExpressAccountFactory(onboarding=True) for _ in range(50)]
    users = [a.user for a in accounts]
    burst = account_histories(fake_stripe, accounts, rng)  # 400 events
    deliveries = burst.signed + rng.sample(burst.signed, 40)  # and 10 % redeliveries
    plan = Calls.make(len(accounts), rng)
    work: list[tuple[str, Any]] = [("pay", c) for c in plan.calls]
    work += [("deliver", d) for d in deliveries]
    rng.shuffle(work)
    engine = engine_for("rq")
    for n in range(3):
        engine.start(f"rq-worker-{n}")

    def run(item: tuple[str, Any]) -> Any:
        kind, what = item
        if kind == "deliver":
            return kind, deliver(what)
        return kind, pay_one(what, users)

    started = time.monotonic()
    third = len(plan.references) // 3
    killer = kill_one_when(engine, "rq-worker-0", "rq-worker-3", lambda: sent_count() >= third)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, work))
    paid = time.monotonic() - started
    killer.join(timeout=300)
    assert engine.killed == ["rq-worker-0"]
    engine.wait_idle()
    idle = time.monotonic() - started
    said = lost_work(engine)
    by_command = process_waiting_events_with_the_command()
    engine.wait_idle()  # what the admin action released
    recovery = recover_with_the_command(fake_stripe)
    seconds = time.monotonic() - started

    assert Counter(status for kind, status in results if kind == "deliver") == {
        200: len(deliveries)}
    answers = [answer for kind, answer in results if kind == "pay"]
    assert_each_reference_paid_once(fake_stripe, plan.references, answers)
    for account in accounts:
        account.refresh_from_db()
        _created, email = burst.newest[account.stripe_id]
        assert (account.email, account.status) == (email, "enabled")
    rows = WebhookEvent.objects.all()
    assert sorted(r.stripe_id for r in rows) == sorted(burst.event_ids)  # each recorded once
    assert {(r.status, r.detail) for r in rows} <= {("processed", ""), ("ignored", "stale")}
    assert len(engine.lost) <= 1
    report("webhook task mode on rq", seconds, fake_stripe, engine, said, recovery,
           (paid, idle))
    print(f"  {len(deliveries)} deliveries; {by_command} event(s) left waiting by the killed "
          f"worker, processed by stripe_express_webhooks --process-waiting")

