"""Signing and delivering events, the pytest plugin and the command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import stripe

from django_stripe_express.testing import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    FakeStripeError,
    sign_payload,
    signature_header,
)


def test_signature_matches_the_stripe_library() -> None:
    payload = json.dumps({"id": "evt_1", "object": "event"})
    header = signature_header(payload, "whsec_x", timestamp=1_700_000_000)
    expected = stripe.WebhookSignature.generate_signature_header(
        payload, "whsec_x", timestamp=1_700_000_000
    )
    assert header == expected
    assert header == f"t=1700000000,v1={sign_payload(payload, 'whsec_x', 1_700_000_000)}"


def test_signed_event_verifies_with_stripe(fake_stripe: FakeStripe) -> None:
    acct = fake_stripe.create_account()["id"]
    payload, header = fake_stripe.signed(fake_stripe.build_event("account.updated", account=acct))
    assert stripe.WebhookSignature.verify_header(payload, header, fake_stripe.webhook_secret)
    event = stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET)
    assert event.account == acct
    assert event.data.object.id == acct
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, header, "whsec_other")
    _, stale = fake_stripe.signed(payload, timestamp=1_000_000_000)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, stale, WEBHOOK_SECRET, tolerance=300)


def test_build_event_from_state(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    acct = fake_stripe.create_account(email="a@example.com")["id"]
    event = fake_stripe.build_event(
        "account.updated",
        account=acct,
        created=123,
        previous_attributes={"email": None},
        id="evt_fixed",
    )
    assert event["id"] == "evt_fixed"
    assert event["created"] == 123
    assert event["data"]["object"]["email"] == "a@example.com"
    assert event["data"]["previous_attributes"] == {"email": None}
    assert fake_stripe_client.v1.events.retrieve("evt_fixed").type == "account.updated"
    capability = fake_stripe.build_event("capability.updated", account=acct, capability="transfers")
    assert capability["data"]["object"]["object"] == "capability"
    payout = fake_stripe.build_event("payout.paid", account=acct, data_object={"id": "po_1"})
    assert payout["data"]["object"] == {"id": "po_1"}
    with pytest.raises(FakeStripeError):
        fake_stripe.build_event("payout.paid", account=acct)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook endpoint that checks signatures like the app's view must."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            try:
                stripe.Webhook.construct_event(
                    body, self.headers["Stripe-Signature"], WEBHOOK_SECRET
                )
                status = 200
                received.append(json.loads(body))
            except stripe.SignatureVerificationError:
                status = 400
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_post_event_to_a_url(fake_stripe: FakeStripe, receiver: Any) -> None:
    url, received = receiver
    acct = fake_stripe.create_account()["id"]
    event = fake_stripe.build_event("account.updated", account=acct)
    assert fake_stripe.post_event(url, event).status_code == 200
    assert received == [event]
    assert fake_stripe.post_event(url, event, secret="whsec_wrong").status_code == 400


def test_post_event_to_a_test_client(fake_stripe: FakeStripe) -> None:
    calls: list[tuple[Any, ...]] = []

    class Client:
        def post(self, path: str, **kwargs: Any) -> str:
            calls.append((path, kwargs))
            return "response"

    event = fake_stripe.build_event("account.application.deauthorized", account="acct_1")
    assert fake_stripe.post_event(Client(), event, path="/hook/") == "response"
    ((path, kwargs),) = calls
    assert path == "/hook/"
    assert kwargs["content_type"] == "application/json"
    assert stripe.WebhookSignature.verify_header(
        kwargs["data"], kwargs["HTTP_STRIPE_SIGNATURE"], WEBHOOK_SECRET
    )


def test_fixture_points_django_settings_at_the_fake(
    fake_stripe: FakeStripe, request: pytest.FixtureRequest
) -> None:
    from django.conf import settings

    if not settings.configured:
        pytest.skip("Django is not configured in this run")
    config = settings.STRIPE_EXPRESS
    assert config["API_BASE"] == config["CONNECT_BASE"] == fake_stripe.url
    assert config["WEBHOOK_SECRETS"] == [fake_stripe.webhook_secret]
    assert config["MAX_NETWORK_RETRIES"] == 0


def test_fixture_resets_state(fake_stripe: FakeStripe) -> None:
    assert fake_stripe.accounts == {}
    assert fake_stripe.requests == []


def test_command_line_serves_and_prints_settings() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_stripe_express.testing",
            "--port",
            "0",
            "--client-id",
            "ca_cli",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Fake Stripe listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        client = stripe.StripeClient(
            SECRET_KEY, base_addresses={"api": url, "connect": url}, max_network_retries=0
        )
        assert client.v1.accounts.list().data == []
        printed = []
        for line in process.stdout:  # stops at EOF if the CLI dies early
            printed.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert '"CLIENT_ID": "ca_cli"' in "".join(printed)
    finally:
        process.terminate()
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def _readme_block(name: str) -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    match = re.search(rf"<!-- fresh-install:{name} -->\n```python\n(.*?)```", readme, re.S)
    assert match, name
    return match.group(1)


def test_command_line_prints_the_environment_the_readme_s_settings_read() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "django_stripe_express.testing", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        printed = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Press Ctrl-C"):
                break
    finally:
        process.terminate()
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
    exports = dict(
        re.match(r"\s*export (\w+)=(\S+)", line).groups()  # type: ignore[union-attr]
        for line in printed if line.strip().startswith("export ")
    )
    url = printed[0].rsplit(" ", 1)[1].strip()

    # The README's settings, as written, run with exactly that environment.
    namespace: dict[str, Any] = {}
    code = _readme_block("settings") + _readme_block("settings-fake")
    with mock.patch.dict(os.environ, exports, clear=True):
        exec(code, namespace)  # our own README's settings
    settings = namespace["STRIPE_EXPRESS"]

    assert exports["FAKE_STRIPE_URL"] == url
    assert settings["API_BASE"] == settings["CONNECT_BASE"] == url
    assert settings["SECRET_KEY"] == SECRET_KEY
    assert settings["WEBHOOK_SECRETS"] == [WEBHOOK_SECRET]
    assert settings["CONNECT_JS_URL"].startswith(url)
    assert exports["STRIPE_PUBLISHABLE_KEY"].startswith("pk_test_")
