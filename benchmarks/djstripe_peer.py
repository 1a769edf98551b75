"""The peer: dj-stripe's own ``account.updated`` handling, end to end.

Run by ``webhooks.py`` in dj-stripe's own virtual environment
(``benchmarks/peer_venv.sh``), never by hand. It replays the deliveries
``webhooks.py`` signed through Django's ``WSGIHandler`` to dj-stripe's
webhook view (a ``WebhookEndpoint`` with the same secret): dj-stripe records
the trigger, verifies the signature, creates the ``Event`` and, for
``account.updated``, fetches the account from Stripe (the fake, whose URL it
is given) and syncs it. Prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from typing import Any

import django
from django.conf import settings
from webhooks import DATA, common_settings, environ_for  # this folder is on sys.path

urlpatterns: list[Any] = []


def configure(args: argparse.Namespace, tmpdir: str) -> None:
    settings.configure(
        **common_settings(args.db_name, tmpdir, ["djstripe"]),
        ROOT_URLCONF=__name__,
        STRIPE_LIVE_MODE=False,
        STRIPE_TEST_SECRET_KEY=args.secret_key,
        DJSTRIPE_FOREIGN_KEY_TO_FIELD="id",
        DJSTRIPE_USE_NATIVE_JSONFIELD=True,
    )


def run(handler: Callable[..., Any], path: str, deliveries: list[list[str]]) -> tuple[float, int]:
    from django.db import connection

    statements = 0

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        nonlocal statements
        if sql.lstrip().split(None, 1)[0].upper() in DATA:
            statements += 1
        return execute(sql, params, many, ctx)

    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
        status.append(line)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        for body, header in deliveries:
            b"".join(handler(environ_for(path, body.encode(), header), start_response))
            if not status[-1].startswith("200"):
                raise SystemExit(f"dj-stripe answered {status[-1]}")
        elapsed = time.perf_counter() - started
    return elapsed, statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", required=True, help="JSON file written by webhooks.py")
    parser.add_argument("--stripe-url", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--webhook-secret", required=True)
    parser.add_argument("--db-name", default="bench_djstripe")
    args = parser.parse_args()
    with open(args.deliveries) as source:
        phases = json.load(source)

    with tempfile.TemporaryDirectory() as tmpdir:
        configure(args, tmpdir)
        django.setup()
        import stripe
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection
        from django.urls import include, path
        from djstripe.models import Account, APIKey, WebhookEndpoint

        stripe.api_base = args.stripe_url  # dj-stripe talks through the module's globals
        stripe.max_network_retries = 0
        urlpatterns[:] = [path("stripe/", include("djstripe.urls", namespace="djstripe"))]
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            endpoint = WebhookEndpoint.objects.create(
                id="we_benchmark", livemode=False, secret=args.webhook_secret,
                url="https://example.com/stripe/webhook/", enabled_events=["*"],
                status="enabled", api_version="", djstripe_tolerance=3600,
            )
            # The platform's own account, as dj-stripe stubs it on first use
            # (the fake does not serve GET /v1/account): setup, not measured.
            key, _ = APIKey.objects.get_or_create_by_api_key(args.secret_key)
            key.djstripe_owner_account = Account.objects.create(id="acct_benchmarkplatform")
            key.save()
            url = f"/stripe/webhook/{endpoint.djstripe_uuid}/"
            handler = WSGIHandler()
            run(handler, url, phases["warmup"])  # dj-stripe meets each account once
            results = {}
            for name, deliveries in (("new", phases["new"]), ("duplicate", phases["new"])):
                seconds, queries = run(handler, url, deliveries)
                results[name] = {"seconds": seconds, "queries": queries, "n": len(deliveries)}
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    from importlib.metadata import version

    results["version"] = f"dj-stripe {version('dj-stripe')}, Django {django.get_version()}"
    print(json.dumps(results))


if __name__ == "__main__":
    main()
