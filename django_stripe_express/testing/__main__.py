"""``python -m django_stripe_express.testing``: run the fake Stripe, or make it send an event.

    python -m django_stripe_express.testing --forward-to http://127.0.0.1:8000/stripe/webhook/
    python -m django_stripe_express.testing trigger account.updated --account acct_...

The first runs the fake for offline demos and development; with
``--forward-to`` every change it makes to an account reaches that webhook, as
``stripe listen --forward-to`` does. The second asks a running fake to send
one event built from its state, now (to ``--url``, or where it forwards).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .control import _TRIGGERED
from .fake import CLIENT_ID, SECRET_KEY, WEBHOOK_SECRET, FakeStripe

PROG = "python -m django_stripe_express.testing"
DEFAULT_PORT = 12111


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["trigger"]:
        return trigger(argv[1:])
    return serve(argv)


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run a fake Stripe (Connect Express) on this machine. "
        f"`{PROG} trigger --help`: make a running fake send an event.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--client-id", default=CLIENT_ID)
    parser.add_argument("--secret-key", default=SECRET_KEY)
    parser.add_argument("--webhook-secret", default=WEBHOOK_SECRET)
    parser.add_argument(
        "--forward-to", metavar="URL",
        help="POST every change of an account to this webhook URL, signed with the "
        "webhook secret (e.g. http://127.0.0.1:8000/stripe/webhook/)",
    )
    args = parser.parse_args(argv)
    fake = FakeStripe(
        args.secret_key, args.client_id, args.webhook_secret, host=args.host, port=args.port
    )
    fake.start()  # listening before the address is printed (``--port 0`` picks any)
    print(f"Fake Stripe listening on {fake.url}")
    print("The README's settings read these; set them where your Django server runs:")
    print(_environment(fake))
    print("(or merge these into settings.STRIPE_EXPRESS yourself:)")
    print(json.dumps(fake.settings(), indent=4))
    print(f"Control page (change accounts, see forwarded events): {fake.url}/fake")
    if args.forward_to:
        _show_deliveries()
        fake.forward_to(args.forward_to)
        print(f"Forwarding every account change to {args.forward_to}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()  # the fake serves in its own thread
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
    finally:
        fake.stop()
    return 0


def _environment(fake: FakeStripe) -> str:
    """The environment variables the README's settings read (and docs/embedded.md's
    for the publishable key), as shell lines: the fake's values, so the project's own
    settings need no edit to talk to it."""
    values = fake.settings()
    lines = [
        ("FAKE_STRIPE_URL", fake.url, ""),
        ("STRIPE_SECRET_KEY", values["SECRET_KEY"], ""),
        ("STRIPE_WEBHOOK_SECRETS", ",".join(values["WEBHOOK_SECRETS"]), ""),
        ("STRIPE_PUBLISHABLE_KEY", values["PUBLISHABLE_KEY"], "  # embedded onboarding"),
        ("STRIPE_CLIENT_ID", values["CLIENT_ID"], '  # ONBOARDING = "oauth" only'),
    ]
    return "\n".join(f"    export {name}={value}{note}" for name, value, note in lines)


def _show_deliveries() -> None:
    """Print each forwarded event and its answer, as `stripe listen` does."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log = logging.getLogger("django_stripe_express.testing")
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def trigger(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} trigger",
        description="Make a running fake Stripe send one event, built from its state.",
    )
    parser.add_argument("type", choices=_TRIGGERED, metavar="TYPE", help=", ".join(_TRIGGERED))
    parser.add_argument("--account", required=True, metavar="ACCT_ID")
    parser.add_argument(
        "--capability", help="for a capability's event (default: the first, or the one the "
        "app requests)",
    )
    parser.add_argument(
        "--url", help="the webhook's full URL (default: where the fake forwards events)"
    )
    parser.add_argument(
        "--fake", default=f"http://127.0.0.1:{DEFAULT_PORT}", metavar="FAKE_URL",
        help="the running fake (default: %(default)s)",
    )
    parser.add_argument("--timeout", type=float, default=10, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    form = {"type": args.type, "account": args.account}
    form.update({k: v for k, v in (("capability", args.capability), ("url", args.url)) if v})
    status, answer = _call(f"{args.fake.rstrip('/')}/fake/trigger", form)
    if status != 200:
        print(f"The fake refused: {answer.get('error', answer)}", file=sys.stderr)
        return 1
    print(f"{answer['type']} {answer['id']} [{answer['account']}] -> {answer['url']}")
    return _wait_for(args.fake.rstrip("/"), answer["id"], args.timeout)


def _call(url: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError as exc:
        return 0, {"error": f"cannot reach the fake at {url}: {exc}"}


def _wait_for(fake_url: str, event_id: str, timeout: float) -> int:
    """Poll the fake's delivery log until ``event_id`` got an answer; 0 for a 2xx."""
    deadline = time.monotonic() + timeout
    query = urllib.parse.urlencode({"event": event_id})
    while time.monotonic() < deadline:
        _status, answer = _call(f"{fake_url}/fake/deliveries?{query}")
        done = [d for d in answer.get("deliveries", []) if d["done"]]
        if done:
            code = done[-1]["status_code"]
            print(f"answered {code or done[-1]['error']} after {done[-1]['attempts']} tries"
                  + _what_the_app_did(done[-1].get("answer", "")))
            return 0 if code is not None and 200 <= code < 300 else 1
        time.sleep(0.1)
    print(f"no answer within {timeout:g}s (see {fake_url}/fake)", file=sys.stderr)
    return 1


def _what_the_app_did(answer: str) -> str:
    """The app's webhook answers "processed", "ignored: <why>", "queued" or
    "duplicate" (webhooks/store.py): said in words, other endpoints' text as is."""
    if answer == "processed":
        return ": the app processed it"
    if answer.startswith("ignored"):
        why = answer.partition(":")[2].strip()
        return f": the app ignored it ({why})" if why else ": the app ignored it"
    if answer == "queued":
        return ": the app queued it for a task worker (WEBHOOK_PROCESSING = \"task\")"
    if answer == "duplicate":
        return ": the app had already received it"
    return f": {answer!r}" if answer else ""


if __name__ == "__main__":
    sys.exit(main())
