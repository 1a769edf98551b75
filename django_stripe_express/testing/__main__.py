"""``python -m django_stripe_express.testing``: run the fake Stripe for offline demos."""

from __future__ import annotations

import argparse
import json
import sys

from .fake import CLIENT_ID, SECRET_KEY, WEBHOOK_SECRET, FakeStripe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m django_stripe_express.testing",
        description="Run a fake Stripe (Connect Express) on this machine.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--client-id", default=CLIENT_ID)
    parser.add_argument("--secret-key", default=SECRET_KEY)
    parser.add_argument("--webhook-secret", default=WEBHOOK_SECRET)
    args = parser.parse_args(argv)
    fake = FakeStripe(
        args.secret_key, args.client_id, args.webhook_secret, host=args.host, port=args.port
    )
    from .server import FakeStripeServer

    # Bind first so the printed address is the real one (``--port 0`` picks any).
    server = FakeStripeServer((fake.host, fake.port), fake.state)
    fake.port = server.server_address[1]
    fake.state.url = fake.url
    print(f"Fake Stripe listening on {fake.url}")
    print("Use these in settings.STRIPE_EXPRESS:")
    print(json.dumps(fake.settings(), indent=4))
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
