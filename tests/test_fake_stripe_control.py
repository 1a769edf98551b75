"""Sending events by hand: the fake's control page, ``trigger``, and ``--forward-to``.

A developer clicking through the standalone fake saw no webhook arrive, and
had no way to send one to ``runserver``. Now ``python -m
django_stripe_express.testing --forward-to URL`` forwards every change, the
control page (``/fake``) makes the changes Stripe would, and ``... trigger
account.updated --account acct_...`` sends one event now.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from django_stripe_express.testing.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def test_the_control_page_lists_accounts_and_says_where_events_go(fake_stripe, endpoint):
    acct = fake_stripe.create_account(email="ann@example.com")["id"]
    page = requests.get(f"{fake_stripe.url}/fake", timeout=5).text
    assert acct in page
    assert "ann@example.com" in page
    assert "Not forwarding" in page

    fake_stripe.forward_to(endpoint.url)
    page = requests.get(f"{fake_stripe.url}/fake/", timeout=5).text
    assert f"forwarded to <code>{endpoint.url}</code>" in page
    assert "Send account.updated" in page


def test_a_button_changes_the_account_and_the_change_is_forwarded(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_account()["id"]
    fake.complete_onboarding(acct)
    assert fake.forwarder.wait(10)
    endpoint.received.clear()

    answer = requests.post(f"{fake.url}/fake/accounts/{acct}/restrict", allow_redirects=False,
                           timeout=5)

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/fake"
    assert fake.accounts[acct]["requirements"]["disabled_reason"] == "requirements.past_due"
    assert fake.forwarder.wait(10)
    assert endpoint.types == ["account.updated", "capability.updated"]
    page = requests.get(f"{fake.url}/fake", timeout=5).text
    assert "account.updated" in page
    assert ": 200" in page  # the delivery and its answer


@pytest.mark.parametrize("action", ["enable", "pending_verification", "review", "deauthorize"])
def test_every_button_forwards_something(forwarding_fake, endpoint, action):
    acct = forwarding_fake.create_account()["id"]
    requests.post(f"{forwarding_fake.url}/fake/accounts/{acct}/{action}", timeout=5)
    assert forwarding_fake.forwarder.wait(10)
    expected = "account.application.deauthorized" if action == "deauthorize" else "account.updated"
    assert endpoint.types[0] == expected


def test_trigger_sends_one_event_built_from_the_state_now(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_account()["id"]

    answer = requests.post(f"{fake.url}/fake/trigger",
                           data={"type": "account.updated", "account": acct}, timeout=5)

    assert answer.status_code == 200
    body = answer.json()
    assert body["url"] == endpoint.url
    assert fake.forwarder.wait(10)
    (received,) = endpoint.received
    assert received.event["id"] == body["id"]
    assert received.event["data"]["object"]["id"] == acct
    deliveries = requests.get(f"{fake.url}/fake/deliveries", params={"event": body["id"]},
                              timeout=5).json()
    assert deliveries["forwarding_to"] == endpoint.url
    assert [(d["status_code"], d["done"]) for d in deliveries["deliveries"]] == [(200, True)]


def test_trigger_says_why_it_cannot(fake_stripe, endpoint):
    acct = fake_stripe.create_account()["id"]
    trigger = f"{fake_stripe.url}/fake/trigger"

    nowhere = requests.post(trigger, data={"type": "account.updated", "account": acct}, timeout=5)
    assert nowhere.status_code == 409
    assert "--forward-to" in nowhere.json()["error"]
    unknown = requests.post(trigger, data={"type": "account.updated", "account": "acct_nope"},
                            timeout=5)
    assert unknown.status_code == 404
    other = requests.post(trigger, data={"type": "payout.paid", "account": acct}, timeout=5)
    assert other.status_code == 400

    # Only the --forward-to target: this page never posts signed events elsewhere.
    given = requests.post(trigger, data={"type": "capability.updated", "account": acct,
                                         "url": endpoint.url}, timeout=5)
    assert given.status_code == 400
    assert "--forward-to" in given.json()["error"]
    assert endpoint.types == []


def test_the_trigger_command(forwarding_fake, endpoint, capsys):
    acct = forwarding_fake.create_account()["id"]

    code = main(["trigger", "account.updated", "--account", acct, "--fake", forwarding_fake.url])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "account.updated evt_" in out
    assert f"[{acct}] -> {endpoint.url}" in out
    assert "answered 200" in out
    assert endpoint.types == ["account.updated"]


def test_the_trigger_command_fails_when_the_webhook_does(forwarding_fake, endpoint, capsys):
    endpoint.status = 400  # e.g. a signature the app refuses
    acct = forwarding_fake.create_account()["id"]
    code = main(["trigger", "account.updated", "--account", acct, "--fake", forwarding_fake.url])
    assert code == 1
    assert "answered 400" in capsys.readouterr().out


def test_the_trigger_command_without_a_fake(capsys):
    code = main(["trigger", "account.updated", "--account", "acct_1",
                 "--fake", "http://127.0.0.1:9"])
    assert code == 1
    assert "cannot reach the fake" in capsys.readouterr().err


class Output:
    """A process's output, read by a thread: lines can be awaited without hanging the test."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.lines: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.stream:
            self.lines.put(line)

    def until(self, text: str, timeout: float = 10) -> str:
        """The next line with ``text``."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if text in line:
                return line
            seen.append(line)
        raise AssertionError(f"no {text!r} in {seen}")

    def close(self) -> None:
        self.thread.join(10)  # the process has ended: its output too
        self.stream.close()


def test_the_command_line_fake_forwards_to_its_url(endpoint):
    process = subprocess.Popen(
        [sys.executable, "-m", "django_stripe_express.testing", "--port", "0",
         "--forward-to", endpoint.url],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    output = Output(process.stdout)
    try:
        url = output.until("Fake Stripe listening on http://127.0.0.1:").split()[-1]
        created = requests.post(f"{url}/v1/accounts", data={"type": "express"},
                                auth=("sk_test_fake", ""), timeout=5).json()
        requests.post(f"{url}/fake/accounts/{created['id']}/enable", timeout=5)

        forwarded = output.until("account.updated")
        assert f"-> {endpoint.url}: 200" in forwarded
        assert endpoint.types[:1] == ["account.updated"]
    finally:
        process.terminate()
        process.wait(10)
        output.close()


def test_v2_accounts_close_instead_of_revoking_and_send_thin_events(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_v2_account(contact_email="v2@example.com")["id"]
    page = requests.get(f"{fake.url}/fake", timeout=5).text
    section = page[page.index(f'data-account="{acct}"'):]
    assert "v2@example.com (v2)" in section
    assert "Close the account" in section
    assert "Send v2.core.account.updated" in section
    assert "The user disconnects the platform" not in section

    requests.post(f"{fake.url}/fake/accounts/{acct}/send", timeout=5)
    requests.post(f"{fake.url}/fake/accounts/{acct}/close", timeout=5)
    answer = requests.post(f"{fake.url}/fake/trigger", timeout=5, data={
        "type": "v2.core.account[configuration.recipient].capability_status_updated",
        "account": acct,
    })

    assert answer.status_code == 200
    assert fake.forwarder.wait(10)
    assert endpoint.types == [
        "v2.core.account.updated",
        "v2.core.account.closed",
        "v2.core.account[configuration.recipient].capability_status_updated",
    ]
    assert fake.accounts[acct]["closed"] is True
    assert "closed" in requests.get(f"{fake.url}/fake", timeout=5).text


# -- issue 24: the control plane opens no door on the developer's machine --------------


def test_a_rebound_host_name_is_refused(fake_stripe):
    acct = fake_stripe.create_account()["id"]
    port = fake_stripe.url.rsplit(":", 1)[1]
    for path in ("/fake", "/fake/deliveries"):
        answer = requests.get(f"{fake_stripe.url}{path}", headers={"Host": f"evil.example:{port}"},
                              timeout=5)
        assert answer.status_code == 403
        assert acct not in answer.text
    assert requests.get(f"{fake_stripe.url}/fake", timeout=5).status_code == 200


def test_another_site_s_form_cannot_act_or_trigger(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_account()["id"]
    assert fake.forwarder.wait(10)
    endpoint.received.clear()
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"}):
        acted = requests.post(f"{fake.url}/fake/accounts/{acct}/enable", headers=headers,
                              allow_redirects=False, timeout=5)
        triggered = requests.post(f"{fake.url}/fake/trigger", headers=headers,
                                  data={"type": "account.updated", "account": acct}, timeout=5)
        assert (acted.status_code, triggered.status_code) == (403, 403)
    assert not fake.accounts[acct].get("details_submitted")
    assert endpoint.received == []
    # Its own page's form (same origin) still works.
    own = requests.post(f"{fake.url}/fake/accounts/{acct}/enable",
                        headers={"Origin": fake.url}, allow_redirects=False, timeout=5)
    assert own.status_code == 302


def test_trigger_posts_only_to_the_forward_to_target(forwarding_fake, endpoint):
    acct = forwarding_fake.create_account()["id"]
    answer = requests.post(f"{forwarding_fake.url}/fake/trigger", data={
        "type": "account.updated", "account": acct, "url": "http://127.0.0.1:1/elsewhere",
    }, timeout=5)
    assert answer.status_code == 400
    same = requests.post(f"{forwarding_fake.url}/fake/trigger", data={
        "type": "account.updated", "account": acct, "url": endpoint.url,
    }, timeout=5)
    assert same.status_code == 200


def test_the_connect_js_stand_in_never_reflects_origin_into_its_script(fake_stripe):
    hostile = "</script><script>alert(document.domain)</script>"
    answer = requests.post(f"{fake_stripe.url}/connect-js/v1.0/frame/payouts", data={
        "client_secret": "nope", "publishable_key": "pk_test_nope", "origin": hostile,
    }, timeout=5)
    assert answer.status_code == 200
    assert "<script>alert" not in answer.text
    assert answer.text.count("<script>") == 1


def test_the_control_page_makes_payouts_fail_with_a_chosen_code_and_forwards_them(
    forwarding_fake, endpoint
):
    fake = forwarding_fake
    acct = fake.create_account()["id"]
    assert fake.forwarder.wait(10)
    endpoint.received.clear()
    page = requests.get(f"{fake.url}/fake", timeout=5).text
    assert '<option value="no_account">no_account</option>' in page

    base = f"{fake.url}/fake/accounts/{acct}"
    nothing = requests.post(f"{base}/payout_paid", allow_redirects=False, timeout=5)
    assert nothing.status_code == 400
    assert "No pending payout" in nothing.text
    for action, form in (("payout", {}), ("payout_failed", {"failure_code": "no_account"}),
                         ("payout", {}), ("payout_paid", {}), ("bank_account", {})):
        answer = requests.post(f"{base}/{action}", data=form, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, action
    assert fake.forwarder.wait(10)

    assert endpoint.types == ["payout.created", "payout.failed", "payout.created",
                              "payout.paid", "account.external_account.updated"]
    failed = [p for p in fake.payouts[acct] if p["status"] == "failed"]
    assert [p["failure_code"] for p in failed] == ["no_account"]
    requests.post(f"{base}/payout", timeout=5)  # a pending one: only the code is wrong
    bad = requests.post(f"{base}/payout_failed", data={"failure_code": "nope"}, timeout=5)
    assert bad.status_code == 400
    assert "Unknown failure_code" in bad.text
