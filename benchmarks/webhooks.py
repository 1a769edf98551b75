"""Webhook throughput: N signed ``account.updated`` events through the whole stack.

Each delivery goes through Django's real ``WSGIHandler`` (URL routing, the usual
middleware, the view, the real signature check, the real database), never
through a shortcut. Phases, each over N events:

- ``new``: one newer event per account (applied: account UPDATE + event INSERT);
- ``duplicate``: the same deliveries again (answered from one SELECT);
- ``stale``: one older event per account (recorded as ignored);
- ``floor``: a bare view that checks one HMAC, parses the JSON and runs one
  ``UPDATE`` of the account: what any correct handler must at least do.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/webhooks.py --events 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        PYTHONPATH=. .venv/bin/python benchmarks/webhooks.py --events 2000

SQLite uses a throwaway file in a temporary folder; PostgreSQL a throwaway
database (``--db-name``, default ``bench_webhooks``) created and dropped by
Django's test-database machinery. Connections persist across requests
(``CONN_MAX_AGE``), as in a production deployment.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

import django
from django.conf import settings

SECRET = "whsec_benchmark"
T0 = 1_700_000_000


def configure(db_name: str, tmpdir: str, prepared: bool = False) -> None:
    url = os.environ.get("DATABASE_URL")
    if url:
        import environ

        database = environ.Env.db_url_config(url)
        database["TEST"] = {"NAME": db_name}
        if prepared:
            # psycopg 3: bind parameters on the server and prepare statements
            # run five times, so PostgreSQL stops parsing and planning them.
            database["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
    else:
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tmpdir, "bench.sqlite3"),
            "TEST": {"NAME": os.path.join(tmpdir, "bench_test.sqlite3")},
        }
    database["CONN_MAX_AGE"] = 600
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        DATABASES={"default": database},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django_stripe_express",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        ROOT_URLCONF=__name__,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        STRIPE_EXPRESS={
            "SECRET_KEY": "sk_test_benchmark",
            "CLIENT_ID": "ca_benchmark",
            "WEBHOOK_SECRETS": [SECRET],
            "WEBHOOK_TOLERANCE": 3600,  # the events are signed up front
            "API_BASE": "http://127.0.0.1:9",  # nothing may reach Stripe
            "CONNECT_BASE": "http://127.0.0.1:9",
        },
        LOGGING_CONFIG=None,
    )


# URLs (this module is the ROOT_URLCONF) ---------------------------------------

urlpatterns: list[Any] = []


def floor_view(request: Any) -> Any:
    """The least a correct handler does: one HMAC check, parse, one UPDATE."""
    from django.http import HttpResponse

    from django_stripe_express.models import ExpressAccount

    body = request.read()
    parts = dict(item.split("=", 1) for item in request.headers["Stripe-Signature"].split(","))
    expected = hmac.new(
        SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        return HttpResponse("bad signature", status=400)
    account = json.loads(body)["data"]["object"]
    ExpressAccount.objects.filter(stripe_id=account["id"]).update(
        charges_enabled=account["charges_enabled"],
        payouts_enabled=account["payouts_enabled"],
        details_submitted=account["details_submitted"],
    )
    return HttpResponse("ok")


def install_urls() -> None:
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    urlpatterns[:] = [
        path("stripe/", include("django_stripe_express.urls")),
        path("floor/", csrf_exempt(floor_view)),
    ]


# Driving the WSGI handler ----------------------------------------------------------


class Delivery:
    __slots__ = ("body", "header")

    def __init__(self, body: bytes, header: str) -> None:
        self.body, self.header = body, header


def signed(event: dict[str, Any]) -> Delivery:
    from django_stripe_express.testing import signature_header

    payload = json.dumps(event)
    return Delivery(payload.encode(), signature_header(payload, SECRET))


def environ_for(path: str, delivery: Delivery) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json; charset=utf-8",
        "CONTENT_LENGTH": str(len(delivery.body)),
        "HTTP_STRIPE_SIGNATURE": delivery.header,
        "HTTP_USER_AGENT": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "wsgi.input": io.BytesIO(delivery.body),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def run(
    handler: Callable[..., Iterable[bytes]], path: str, deliveries: list[Delivery], expect: bytes
) -> tuple[float, int]:
    """Seconds taken and statements executed for `deliveries`; checks every answer."""
    from django.db import connection

    statements = 0

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    answers: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        answers.append(status)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        for delivery in deliveries:
            result = handler(environ_for(path, delivery), start_response)
            content = b"".join(result)
            if content != expect:
                raise SystemExit(f"{path}: expected {expect!r}, got {answers[-1]} {content!r}")
        elapsed = time.perf_counter() - started
    return elapsed, statements


def build(n: int) -> tuple[list[Delivery], list[Delivery], list[Delivery], list[Delivery]]:
    """Accounts in the database; new, stale and floor deliveries for them."""
    from django.contrib.auth import get_user_model

    from django_stripe_express.models import ExpressAccount
    from django_stripe_express.testing import build_event
    from django_stripe_express.testing.objects import build_account

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench{i}") for i in range(n + 20)
    )
    stripe_accounts = [build_account(email=f"bench{i}@example.com") for i in range(n + 20)]
    ExpressAccount.objects.bulk_create(
        ExpressAccount(user=user, stripe_id=acct["id"], email=acct["email"])
        for user, acct in zip(users, stripe_accounts, strict=True)
    )
    new, stale, floor = [], [], []
    for acct in stripe_accounts:
        done = {**acct, "details_submitted": True, "charges_enabled": True,
                "payouts_enabled": True}
        new.append(signed(build_event("account.updated", done, account=acct["id"],
                                      created=T0 + 10)))
        stale.append(signed(build_event("account.updated", acct, account=acct["id"],
                                        created=T0)))
        floor.append(signed(build_event("account.updated", done, account=acct["id"],
                                        created=T0 + 20)))
    return new, stale, floor, []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=2000, help="events per phase")
    parser.add_argument("--round", type=int, default=100,
                        help="events per phase per round (phases alternate)")
    parser.add_argument("--sqlite-dir", default=None,
                        help="folder for the SQLite file (default: the temp dir; "
                        "/dev/shm takes the disk out of the measure)")
    parser.add_argument("--db-name", default="bench_webhooks",
                        help="throwaway PostgreSQL database (dropped afterwards)")
    parser.add_argument("--prepared", action="store_true",
                        help="PostgreSQL with psycopg 3: server-side binding and "
                        "prepared statements (OPTIONS server_side_binding, prepare_threshold)")
    args = parser.parse_args()
    n = args.events

    with tempfile.TemporaryDirectory(dir=args.sqlite_dir) as tmpdir:
        configure(args.db_name, tmpdir, args.prepared)
        django.setup()
        install_urls()
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection

        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            new, stale, floor, _ = build(n)
            handler = WSGIHandler()
            # Warm up imports, URL resolver, connection, statement caches.
            run(handler, "/floor/", floor[n:], b"ok")
            run(handler, "/stripe/webhook/", new[n:], b"processed")
            new, stale, floor = new[:n], stale[:n], floor[:n]

            # Phases are interleaved in rounds so that a noisy machine (other
            # processes, disk flushes) weighs on all of them alike.
            phases = {
                "floor (HMAC + 1 UPDATE)": ("/floor/", floor, b"ok"),
                "new (applied)": ("/stripe/webhook/", new, b"processed"),
                "duplicate": ("/stripe/webhook/", new, b"duplicate"),
                "stale (ignored)": ("/stripe/webhook/", stale, b"ignored: stale"),
            }
            totals = {name: [0.0, 0] for name in phases}
            for start in range(0, n, args.round):
                for name, (path, deliveries, expect) in phases.items():
                    seconds, statements = run(
                        handler, path, deliveries[start : start + args.round], expect
                    )
                    totals[name][0] += seconds
                    totals[name][1] += int(statements)
            results = [(name, float(t[0]), int(t[1])) for name, t in totals.items()]
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    floor_rate = n / results[0][1]
    vendor = connection.vendor
    prepared = ", prepared statements" if args.prepared and vendor == "postgresql" else ""
    print(f"\n{n} events per phase on {vendor}{prepared} (Django {django.get_version()}, "
          f"{args.round} per round, phases alternating)\n")
    print(f"{'phase':<26}{'events/s':>10}{'ms/event':>10}{'queries/event':>15}"
          f"{'vs floor':>10}")
    for name, seconds, statements in results:
        rate = n / seconds
        print(f"{name:<26}{rate:>10.0f}{1000 * seconds / n:>10.3f}{statements / n:>15.2f}"
              f"{rate / floor_rate:>9.0%}")
    if vendor == "sqlite":
        print("\n(SQLite: Django sends an explicit BEGIN for each transaction; it is counted.)")
    ratio = (n / results[1][1]) / floor_rate
    print(f"\nnew events: {ratio:.0%} of the floor's throughput (goal: at least 60%)")


if __name__ == "__main__":
    main()
