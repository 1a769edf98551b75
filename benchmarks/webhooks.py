"""Webhook throughput: N signed ``account.updated`` events through the whole stack.

Each delivery goes through Django's real ``WSGIHandler`` (URL routing, the usual
middleware, the view, the real signature check, the real database), never
through a shortcut, with Django's default database settings. Phases, each over
N events, alternating in rounds:

- ``floor``: a bare view that checks one HMAC, parses the JSON and runs one
  ``UPDATE`` of the account: what any correct handler must at least do;
- ``inline new``: one newer event per account, applied in the request;
- ``inline duplicate``: the same deliveries again;
- ``inline stale``: one older event per account (recorded as ignored);
- ``task request``: ``WEBHOOK_PROCESSING = "task"``, the request alone
  (verify, record, enqueue with django-tasks-db's database backend);
- ``task request, dummy``: the same with Django's ``DummyBackend``, whose
  enqueue costs next to nothing: the app's own share of the request;
- ``thin new`` / ``thin duplicate`` (``--thin-events``, 200 by default: each
  costs a real HTTP call to the fake Stripe): Accounts v2 thin event
  notifications for v2 accounts, each fetching its account (``include``)
  before it is applied, then the same deliveries again;

then the peer, **dj-stripe**, in its own virtual environment
(``benchmarks/peer_venv.sh``; ``djstripe_peer.py``): its ``account.updated``
handling end to end, its account fetch answered by this app's fake Stripe.

Run from the repository root::

    bash benchmarks/peer_venv.sh          # once: dj-stripe's environment
    PYTHONPATH=. .venv/bin/python benchmarks/webhooks.py --events 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        PYTHONPATH=. .venv/bin/python benchmarks/webhooks.py --events 2000

SQLite uses throwaway files in a temporary folder; PostgreSQL throwaway
databases (``--db-name``, default ``bench_webhooks``, and ``bench_djstripe``)
created and dropped by Django's test-database machinery. Connections persist
across requests (``CONN_MAX_AGE``), as in a production deployment.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import django
from django.conf import settings

SECRET = "whsec_benchmark"
T0 = 1_700_000_000
# dj-stripe accepts only keys shaped like Stripe's (24+ characters after the prefix).
FAKE_KEY = "sk_test_" + "benchmark" * 3
PEER_VENV = Path(__file__).resolve().parent / ".venv-djstripe"
DATA = ("SELECT", "INSERT", "UPDATE", "DELETE")


def common_settings(db_name: str, tmpdir: str, apps: list[str]) -> dict[str, Any]:
    """What this app's run and the peer's (`djstripe_peer.py`) share: the
    database (Django's defaults: no OPTIONS), the usual middleware."""
    url = os.environ.get("DATABASE_URL")
    if url:
        import environ

        database = environ.Env.db_url_config(url)
        database["TEST"] = {"NAME": db_name}
    else:
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tmpdir, f"{db_name}.sqlite3"),
            "TEST": {"NAME": os.path.join(tmpdir, f"{db_name}_test.sqlite3")},
        }
    database["CONN_MAX_AGE"] = 600  # connections persist, as in production
    return {
        "DEBUG": False,
        "SECRET_KEY": "benchmark-only",
        "ALLOWED_HOSTS": ["*"],
        "USE_TZ": True,
        "DATABASES": {"default": database},
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            *apps,
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LOGGING_CONFIG": None,
    }


def configure(db_name: str, tmpdir: str) -> None:
    settings.configure(
        **common_settings(db_name, tmpdir, ["django_stripe_express", "django_tasks_db"]),
        ROOT_URLCONF=__name__,
        TASKS=DATABASE_TASKS,
        STRIPE_EXPRESS={
            "SECRET_KEY": "sk_test_benchmark",
            "CLIENT_ID": "ca_benchmark",
            "WEBHOOK_SECRETS": [SECRET],
            "WEBHOOK_TOLERANCE": 3600,  # the events are signed up front
            "API_BASE": "http://127.0.0.1:9",  # overwritten with the fake's address
            "CONNECT_BASE": "http://127.0.0.1:9",
        },
    )


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": (
    "django.tasks" if find_spec("django.tasks") else "django_tasks"
) + ".backends.dummy.DummyBackend"}}


_switched: list[Any] = []


def processing(mode: str) -> None:
    """Switch ``WEBHOOK_PROCESSING`` and the task backend (``task-dummy``: the
    DummyBackend), undoing the previous switch so that overrides never pile up."""
    from django.test.utils import override_settings

    while _switched:
        _switched.pop().disable()
    switch = override_settings(
        TASKS=DUMMY_TASKS if mode == "task-dummy" else DATABASE_TASKS,
        STRIPE_EXPRESS={**settings.STRIPE_EXPRESS,
                        "WEBHOOK_PROCESSING": "task" if mode.startswith("task") else "inline"},
    )
    switch.enable()  # TASKS changed: the tasks framework rebuilds its backends
    _switched.append(switch)


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


def environ_for(path: str, body: bytes, header: str) -> dict[str, Any]:
    """A WSGI environ for Stripe posting `body` to `path`."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_STRIPE_SIGNATURE": header,
        "HTTP_USER_AGENT": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def run(
    handler: Callable[..., Iterable[bytes]], path: str, deliveries: list[Delivery], expect: bytes
) -> tuple[float, int, int]:
    """Seconds, data queries and all statements for `deliveries`; checks every answer."""
    from django.db import connection

    data = statements = 0

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal data, statements
        statements += 1
        data += sql.lstrip().split(None, 1)[0].upper() in DATA
        return execute(sql, params, many, context)

    answers: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        answers.append(status)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        for delivery in deliveries:
            result = handler(environ_for(path, delivery.body, delivery.header), start_response)
            content = b"".join(result)
            if content != expect:
                raise SystemExit(f"{path}: expected {expect!r}, got {answers[-1]} {content!r}")
        elapsed = time.perf_counter() - started
    return elapsed, data, statements


def build_thin(n: int, fake: Any) -> list[Delivery]:
    """`n` v2 accounts (in the database and the fake, onboarded at the fake) and a
    thin ``v2.core.account.updated`` for each."""
    from django.contrib.auth import get_user_model

    from django_stripe_express.models import ExpressAccount

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"thin{i}") for i in range(n)
    )
    accounts = [fake.create_v2_account(contact_email=f"thin{i}@example.com") for i in range(n)]
    ExpressAccount.objects.bulk_create(
        ExpressAccount(user=user, stripe_id=acct["id"], accounts_api="v2")
        for user, acct in zip(users, accounts, strict=True)
    )
    deliveries = []
    for acct in accounts:
        fake.complete_onboarding(acct["id"])
        event = fake.build_thin_event("v2.core.account.updated", account=acct["id"], created=T0)
        deliveries.append(signed(event))
    return deliveries


def build(n: int, fake: Any) -> dict[str, list[Delivery]]:
    """Accounts (in the database and the fake); every phase's deliveries for them."""
    from django.contrib.auth import get_user_model

    from django_stripe_express.models import ExpressAccount
    from django_stripe_express.testing import build_event

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench{i}") for i in range(n + 20)
    )
    stripe_accounts = [fake.create_account(email=f"bench{i}@example.com") for i in range(n + 20)]
    ExpressAccount.objects.bulk_create(
        ExpressAccount(user=user, stripe_id=acct["id"], email=acct["email"])
        for user, acct in zip(users, stripe_accounts, strict=True)
    )
    phases: dict[str, list[Delivery]] = {
        "new": [], "stale": [], "floor": [], "task": [], "task_dummy": [], "peer_warmup": [],
        "peer_new": [],
    }
    for acct in stripe_accounts:
        done = fake.complete_onboarding(acct["id"])
        for phase, created, obj in (
            ("stale", T0, acct), ("new", T0 + 10, done), ("floor", T0 + 20, done),
            ("task", T0 + 30, done), ("task_dummy", T0 + 35, done), ("peer_warmup", T0 + 40, done),
            ("peer_new", T0 + 50, done),
        ):
            event = build_event("account.updated", obj, account=acct["id"], created=created)
            phases[phase].append(signed(event))
    return phases


def run_peer(phases: dict[str, list[Delivery]], n: int, fake: Any, args: Any) -> dict[str, Any]:
    """dj-stripe's figures, from its own environment (None when it is not set up)."""
    python = Path(args.peer_venv) / "bin" / "python"
    if not python.exists():
        print(f"\n(peer skipped: no {python}; create it with bash benchmarks/peer_venv.sh)")
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump({
            "warmup": [[d.body.decode(), d.header] for d in phases["peer_warmup"][:n]],
            "new": [[d.body.decode(), d.header] for d in phases["peer_new"][:n]],
        }, file)
        file.flush()
        calls = len(fake.requests)
        out = subprocess.run(
            [str(python), str(Path(__file__).with_name("djstripe_peer.py")),
             "--deliveries", file.name, "--stripe-url", fake.url,
             "--secret-key", fake.secret_key, "--webhook-secret", SECRET],
            capture_output=True, text=True,
        )
    if out.returncode:
        raise SystemExit(f"the peer failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["stripe_calls"] = len(fake.requests) - calls
    return result


def run_thin(
    handler: Callable[..., Iterable[bytes]], thin: list[Delivery], n: int, fake: Any
) -> dict[str, tuple[float, int, int, int]]:
    """The thin phases, inline: seconds, data queries, statements, Stripe calls."""
    processing("inline")
    run(handler, "/stripe/webhook/thin/", thin[n:], b"processed")  # warm-up
    figures = {}
    for name, expect in (("thin new (applied)", b"processed"), ("thin duplicate", b"duplicate")):
        calls = len(fake.requests)
        seconds, data, statements = run(handler, "/stripe/webhook/thin/", thin[:n], expect)
        figures[name] = (seconds, data, statements, len(fake.requests) - calls)
    return figures


def print_thin(
    figures: dict[str, tuple[float, int, int, int]], n: int, floor_rate: float
) -> None:
    print(f"\nThin events (Accounts v2), {n} per phase, inline; each new one fetches its "
          "account from the fake Stripe over HTTP on this machine:")
    for name, (seconds, data, statements, calls) in figures.items():
        rate = n / seconds
        print(f"{name:<26}{rate:>10.0f}{1000 * seconds / n:>10.3f}{data / n:>14.2f}"
              f"{statements / n:>13.2f}{rate / floor_rate:>9.0%}   Stripe calls/event "
              f"{calls / n:.2f}")
    new, dup = figures["thin new (applied)"], figures["thin duplicate"]
    print(f"thin: data queries new {new[1] / n:.2f} (goal: at most 3), duplicate "
          f"{dup[1] / n:.2f} (goal: 1); Stripe calls new {new[3] / n:.2f} (goal: 1), "
          f"duplicate {dup[3] / n:.2f} (goal: 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=2000, help="events per phase")
    parser.add_argument("--round", type=int, default=100,
                        help="events per phase per round (phases alternate)")
    parser.add_argument("--sqlite-dir", default=None,
                        help="folder for the SQLite files (default: the temp dir)")
    parser.add_argument("--db-name", default="bench_webhooks",
                        help="throwaway PostgreSQL database (dropped afterwards)")
    parser.add_argument("--peer-venv", default=str(PEER_VENV),
                        help="dj-stripe's virtual environment (benchmarks/peer_venv.sh)")
    parser.add_argument("--thin-events", type=int, default=200,
                        help="thin events (each fetches its account from the fake Stripe); 0: none")
    args = parser.parse_args()
    n = args.events
    thin_n = args.thin_events

    from django_stripe_express.testing import FakeStripe

    fake_stripe = FakeStripe(secret_key=FAKE_KEY)
    with tempfile.TemporaryDirectory(dir=args.sqlite_dir) as tmpdir, fake_stripe as fake:
        configure(args.db_name, tmpdir)
        settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "API_BASE": fake.url,
                                   "CONNECT_BASE": fake.url, "SECRET_KEY": fake.secret_key}
        django.setup()
        install_urls()
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection

        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            phases = build(n, fake)
            thin = build_thin(thin_n + 20, fake) if thin_n else []
            handler = WSGIHandler()
            # Warm up imports, URL resolver, connection, caches.
            processing("inline")
            run(handler, "/floor/", phases["floor"][n:], b"ok")
            run(handler, "/stripe/webhook/", phases["new"][n:], b"processed")
            processing("task")
            run(handler, "/stripe/webhook/", phases["task"][n:], b"queued")
            processing("task-dummy")
            run(handler, "/stripe/webhook/", phases["task_dummy"][n:], b"queued")
            stripe_calls = len(fake.requests)

            plan = {  # name: (mode, path, deliveries, expected answer)
                "floor (HMAC + 1 UPDATE)": ("inline", "/floor/", phases["floor"], b"ok"),
                "inline new (applied)": ("inline", "/stripe/webhook/", phases["new"], b"processed"),
                "inline duplicate": ("inline", "/stripe/webhook/", phases["new"], b"duplicate"),
                "inline stale (ignored)": (
                    "inline", "/stripe/webhook/", phases["stale"], b"ignored: stale"),
                "task request (queued)": ("task", "/stripe/webhook/", phases["task"], b"queued"),
                "task request, dummy": (
                    "task-dummy", "/stripe/webhook/", phases["task_dummy"], b"queued"),
            }
            totals = {name: [0.0, 0, 0] for name in plan}
            for start in range(0, n, args.round):
                for name, (mode, path, deliveries, expect) in plan.items():
                    processing(mode)
                    seconds, data, statements = run(
                        handler, path, deliveries[start : start + args.round], expect
                    )
                    totals[name][0] += seconds
                    totals[name][1] += data
                    totals[name][2] += statements
            stripe_calls = len(fake.requests) - stripe_calls
            thin_totals = run_thin(handler, thin, thin_n, fake) if thin_n else {}
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        vendor = connection.vendor
        peer = run_peer(phases, n, fake, args)

    rows = [(name, float(t[0]), int(t[1]), int(t[2])) for name, t in totals.items()]
    if peer:
        for phase in ("new", "duplicate"):
            figures = peer[phase]
            rows.append((f"dj-stripe {phase}", figures["seconds"], figures["queries"], -1))
    floor_rate = n / rows[0][1]
    print(f"\n{n} events per phase on {vendor} (Django {django.get_version()}, default "
          f"database settings, {args.round} per round, this app's phases alternating)\n")
    print(f"{'phase':<26}{'events/s':>10}{'ms/event':>10}{'data q/event':>14}"
          f"{'stmts/event':>13}{'vs floor':>10}")
    for name, seconds, data, statements in rows:
        rate = n / seconds
        stmts = f"{statements / n:.2f}" if statements >= 0 else "-"
        print(f"{name:<26}{rate:>10.0f}{1000 * seconds / n:>10.3f}{data / n:>14.2f}"
              f"{stmts:>13}{rate / floor_rate:>9.0%}")
    rate = {name: n / seconds for name, seconds, _, _ in rows}
    print(f"\nStripe calls by this app: {stripe_calls} (goal: 0)")
    new_q, dup_q = totals["inline new (applied)"][1] / n, totals["inline duplicate"][1] / n
    print(f"data queries: new {new_q:.2f} (goal: at most 3), duplicate {dup_q:.2f} (goal: 1)")
    task_ratio = rate["task request (queued)"] / floor_rate
    dummy_ratio = rate["task request, dummy"] / floor_rate
    print(f"task request: {task_ratio:.0%} of the floor's throughput (goal: at least 50%); "
          f"{dummy_ratio:.0%} with an enqueue that costs nothing (DummyBackend)")
    if peer:
        print(f"peer: {peer['version']}; {peer['stripe_calls']} Stripe calls (answered by the "
              f"fake) for its {3 * n} deliveries: warm-up, new, duplicate")
        ratio = rate["inline new (applied)"] / rate["dj-stripe new"]
        print(f"inline new vs dj-stripe new: {ratio:.1f}x (goal: at least 5x)")
    if thin_n:
        print_thin(thin_totals, thin_n, floor_rate)
    if vendor == "sqlite":
        print("\n(SQLite: Django sends an explicit BEGIN for each transaction: a statement, "
              "not a data query.)")


if __name__ == "__main__":
    main()
