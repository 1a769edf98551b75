"""Paying users: what one ``pay()`` costs, and transfers per second end to end.

Against this app's fake Stripe (real HTTP on 127.0.0.1, the real ``stripe``
library), on a throwaway database, prints:

- **cost of one pay()**, inline and task mode: the data queries in the caller's
  transaction (the request), the queries of the send after commit (inline) or
  of the worker's task, and the Stripe calls (goal: 1 call, at most 4 queries
  in the request);
- **inline throughput**: ``pay()`` one after the other in one process,
  transfers per second until each is ``sent`` (pacing off, then at the default
  test-mode pace);
- **task throughput** with 1, 2 and 4 ``db_worker`` processes
  (django-tasks-db, started as tests/test_webhook_worker.py starts them): the
  workers are started and warmed up first, then the clock runs from the first
  ``pay()`` until every transfer is ``sent`` (pacing off: the workers' own
  speed);
- **payday burst**: ``--burst`` transfers (2,000 by default) through 4 workers
  against a fake limited to 25 requests a second, at the default pace (20 a
  second with a test key, counted in the database cache the workers share):
  the fake's 429 count, and that every reference was sent exactly once.

Run from the repository root (PostgreSQL: workers write concurrently)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        PYTHONPATH=. .venv/bin/python benchmarks/payments.py

The workers are this script again (``--worker``), configured from environment
variables the parent sets.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import django
from django.conf import settings

DATA = ("SELECT", "INSERT", "UPDATE", "DELETE")
CACHE_TABLE = "bench_payments_cache"
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def cache_config(cache: str) -> dict[str, Any]:
    """Where the workers count their shared pace: the database (``db``) or Redis
    (``redis`` or ``redis://host:port/db``, Django's own RedisCache)."""
    if cache == "db":
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    location = cache if cache.startswith("redis://") else "redis://127.0.0.1:6379/9"
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
            "KEY_PREFIX": f"bench-payments-{os.getpid() if cache == 'redis' else ''}"}


def configure(database: dict[str, Any], stripe_express: dict[str, Any],
              cache: dict[str, Any]) -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark",
        USE_TZ=True,
        DATABASES={"default": database},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                        "django_stripe_express", "django_tasks_db"],
        # Shared by every process: the workers pace their Stripe calls together.
        CACHES={"default": cache},
        TASKS=TASKS,
        STRIPE_EXPRESS=stripe_express,
        LOGGING_CONFIG=None,
    )
    django.setup()


def database_config(tmpdir: str) -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        import environ

        database = environ.Env.db_url_config(url)
        database["TEST"] = {"NAME": "bench_payments"}
        return database
    return {"ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tmpdir, "bench.sqlite3"),
            "TEST": {"NAME": os.path.join(tmpdir, "bench_test.sqlite3")},
            "OPTIONS": {"timeout": 30}}


# -- the worker ---------------------------------------------------------------------
def worker() -> None:
    configure(json.loads(os.environ["BENCH_DATABASE"]), json.loads(os.environ["BENCH_STRIPE"]),
              json.loads(os.environ["BENCH_CACHE"]))
    from django.core.management import call_command

    call_command("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.05",
                 "--worker-id", os.environ["BENCH_WORKER_ID"], verbosity=0)


def start_workers(count: int, stripe_express: dict[str, Any]) -> list[subprocess.Popen[bytes]]:
    from django.db import connection

    database = {**connection.settings_dict}
    database.pop("TEST", None)
    env = {**os.environ, "BENCH_DATABASE": json.dumps(database, default=str),
           "BENCH_STRIPE": json.dumps(stripe_express),
           "BENCH_CACHE": json.dumps(settings.CACHES["default"])}
    return [
        subprocess.Popen([sys.executable, __file__, "--worker"],
                         env={**env, "BENCH_WORKER_ID": f"bench-{n}"})
        for n in range(count)
    ]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        process.send_signal(signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# -- the run ------------------------------------------------------------------------
class Bench:
    def __init__(self, fake: Any, payees: list[Any]) -> None:
        self.fake = fake
        self.payees = payees
        self.base = dict(settings.STRIPE_EXPRESS)
        self.round = 0

    def mode(self, processing: str, rate: float | None) -> dict[str, Any]:
        value = {**self.base, "PAYMENTS_PROCESSING": processing, "PAYMENTS_RATE_LIMIT": rate}
        settings.STRIPE_EXPRESS = value
        return value

    def references(self, count: int) -> list[str]:
        self.round += 1
        return [f"bench-{self.round}-{n}" for n in range(count)]

    def pay(self, reference: str, n: int) -> Any:
        from django_stripe_express import payments

        return payments.pay(self.payees[n % len(self.payees)].user, 100, "usd", reference)

    def cost(self, processing: str, count: int = 50) -> dict[str, float]:
        """Queries in the caller's transaction, after it, and Stripe calls, per pay()."""
        from django.db import connection, transaction
        from django.test.utils import CaptureQueriesContext

        self.mode(processing, 0)
        request = after = 0
        before_calls = len(self.fake.requests)
        for n, reference in enumerate(self.references(count)):
            with CaptureQueriesContext(connection) as caught, transaction.atomic():
                self.pay(reference, n)
                inside = len(caught.captured_queries)
            request += data_queries(caught.captured_queries[:inside])
            after += data_queries(caught.captured_queries[inside:])
        task = 0.0
        if processing == "task":
            from django_tasks_db.models import DBTaskResult

            from django_stripe_express.payments import transfers

            ids = list(DBTaskResult.objects.filter(status="READY").values_list("pk", flat=True))
            # The worker's share: what the task runs, measured here in-process.
            pending = list(transfer_ids(self.round))
            with CaptureQueriesContext(connection) as caught:
                for transfer_id in pending:
                    transfers.send(transfer_id)
            task = data_queries(caught.captured_queries) / count
            DBTaskResult.objects.filter(pk__in=ids).delete()
        calls = len(self.fake.requests) - before_calls
        return {"request": request / count, "after": after / count, "task": task,
                "calls": calls / count}

    def inline_throughput(self, count: int, rate: float | None) -> float:
        self.mode("inline", rate)
        started = time.monotonic()
        for n, reference in enumerate(self.references(count)):
            self.pay(reference, n)
        elapsed = time.monotonic() - started
        assert_sent_once(self.fake, self.round, count)
        return count / elapsed

    def task_run(self, count: int, workers: int, rate: float | None,
                 timeout: float = 600) -> tuple[float, float]:
        """Start ``workers`` and warm them up (one transfer each, sent), then pay
        ``count`` and time from the first call until all are sent; (transfers
        per second, seconds)."""
        value = self.mode("task", rate)
        processes = start_workers(workers, value)
        try:
            for n, reference in enumerate(self.references(workers)):
                self.pay(reference, n)
            wait_sent(self.round, workers, processes, 120)
            started = time.monotonic()
            for n, reference in enumerate(self.references(count)):
                self.pay(reference, n)
            wait_sent(self.round, count, processes, timeout)
            elapsed = time.monotonic() - started
        finally:
            stop_workers(processes)
        assert_sent_once(self.fake, self.round, count)
        return count / elapsed, elapsed


def data_queries(queries: list[dict[str, Any]]) -> int:
    return sum(1 for q in queries if q["sql"].lstrip().upper().startswith(DATA))


def transfer_ids(round_: int) -> list[int]:
    from django_stripe_express.models import Transfer

    return list(Transfer.objects.filter(reference__startswith=f"bench-{round_}-")
                .values_list("pk", flat=True))


def wait_sent(round_: int, count: int, processes: list[Any], timeout: float) -> None:
    from django_stripe_express.models import Transfer

    deadline = time.monotonic() + timeout
    rows = Transfer.objects.filter(reference__startswith=f"bench-{round_}-")
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a worker died")
        if rows.filter(status="sent").count() == count:
            return
        time.sleep(0.2)
    statuses = Counter(rows.values_list("status", flat=True))
    raise SystemExit(f"not all sent in {timeout} s: {statuses}")


def assert_sent_once(fake: Any, round_: int, count: int) -> None:
    from django_stripe_express.models import Transfer
    from django_stripe_express.payments.transfers import REFERENCE_KEY

    prefix = f"bench-{round_}-"
    made = Counter(t["metadata"][REFERENCE_KEY] for t in fake.transfers_made()
                   if t["metadata"].get(REFERENCE_KEY, "").startswith(prefix))
    rows = Transfer.objects.filter(reference__startswith=prefix)
    statuses = Counter(rows.values_list("status", flat=True))
    if len(made) != count or set(made.values()) != {1} or statuses != {"sent": count}:
        raise SystemExit(f"NOT exactly once: {len(made)} references at the fake, "
                         f"{Counter(made.values())} per reference, rows {statuses}")


def make_payees(fake: Any, count: int) -> list[Any]:
    from django.contrib.auth import get_user_model

    from django_stripe_express.models import ExpressAccount

    payees = []
    for n in range(count):
        user = get_user_model().objects.create(username=f"payee{n}")
        data = fake.create_account(type="express", email=f"payee{n}@example.com")
        data = fake.complete_onboarding(data["id"])
        account = ExpressAccount.objects.create(user=user, stripe_id=data["id"], livemode=False)
        account.apply(data)
        account.save()
        payees.append(account)
    return payees


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=500,
                        help="per throughput measure (default 500)")
    parser.add_argument("--burst", type=int, default=2000, help="the payday burst (2000)")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--cache", default="db",
                        help="where the workers pace together: db (default), redis, or "
                        "redis://host:port/db")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return

    from django_stripe_express.testing import FakeStripe

    fake = FakeStripe().start()
    with tempfile.TemporaryDirectory() as tmpdir:
        configure(database_config(tmpdir), {**fake.settings(), "TIMEOUT": 10},
                  cache_config(args.cache))
        from django.core.management import call_command
        from django.db import connection

        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            call_command("createcachetable", verbosity=0)
            fake.add_funds(10**12, "usd")
            bench = Bench(fake, make_payees(fake, 20))
            print(f"Django {django.get_version()}, {connection.vendor}, pace counted in "
                  f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, "
                  f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
            print("\ncost of one pay() (data queries; Stripe calls)")
            for processing in ("inline", "task"):
                c = bench.cost(processing)
                print(f"  {processing:6}  request {c['request']:.1f}  after commit "
                      f"{c['after']:.1f}  worker's task {c['task']:.1f}  Stripe calls "
                      f"{c['calls']:.2f}")
            print("\nthroughput, transfers/s until each is sent")
            print(f"  inline, no pacing        {bench.inline_throughput(args.transfers, 0):7.1f}")
            paced = bench.inline_throughput(min(args.transfers, 200), None)
            print(f"  inline, default pace 20  {paced:7.1f}")
            for workers in (int(w) for w in args.workers.split(",")):
                rate, _ = bench.task_run(args.transfers, workers, 0)
                print(f"  task, {workers} worker(s), no pacing {rate:7.1f}")
            if args.burst:
                fake.limit_rate(per_second=25)
                rate, seconds = bench.task_run(args.burst, 4, None, timeout=1200)
                print(f"\npayday burst: {args.burst} transfers, 4 workers, fake limited to "
                      f"25/s, default pace: {seconds:.0f} s ({rate:.1f}/s), "
                      f"{fake.rate_limited} answered 429, every reference sent exactly once")
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            fake.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
