"""Stripe's signature scheme, checked against the `stripe` library's own verifier."""

from __future__ import annotations

import time

import pytest
import stripe

from django_stripe_express.testing import signature_header
from django_stripe_express.webhooks.receive import parse_header, verify_signature
from django_stripe_express.webhooks.rules import InvalidWebhook

SECRET = "whsec_test_signature"
BODY = '{"id": "evt_1", "object": "event"}'


def stripe_accepts(body: str, header: str, secret: str = SECRET) -> bool:
    try:
        stripe.WebhookSignature.verify_header(body, header, secret, tolerance=300)
    except stripe.SignatureVerificationError:
        return False
    return True


def test_a_header_from_the_stripe_library_is_accepted():
    header = stripe.WebhookSignature.generate_signature_header(BODY, SECRET)
    verify_signature(BODY.encode(), header, [SECRET], 300)


def test_the_fakes_header_is_what_the_stripe_library_accepts():
    header = signature_header(BODY, SECRET)
    assert stripe_accepts(BODY, header)
    verify_signature(BODY.encode(), header, [SECRET], 300)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Stripe-Signature header"),
        ("", "missing Stripe-Signature header"),
        ("v1=abc", "no timestamp in Stripe-Signature header"),
        ("t=soon,v1=abc", "no timestamp in Stripe-Signature header"),
        ("t=1", "no v1 signature in Stripe-Signature header"),
        ("garbage", "no timestamp in Stripe-Signature header"),
    ],
)
def test_malformed_headers_name_the_check(header, reason):
    with pytest.raises(InvalidWebhook) as caught:
        verify_signature(BODY.encode(), header, [SECRET], 300)
    assert caught.value.reason == reason


def test_no_matching_secret_reminds_of_the_connect_secret():
    header = signature_header(BODY, "whsec_platform_endpoint")
    assert not stripe_accepts(BODY, header)
    with pytest.raises(InvalidWebhook) as caught:
        verify_signature(BODY.encode(), header, [SECRET], 300)
    assert caught.value.reason == "no signature matched"
    assert "Connect endpoints have their own signing secret" in caught.value.log_detail
    assert "event destination for thin events" in caught.value.log_detail
    assert SECRET not in caught.value.log_detail


def test_no_secret_configured_is_refused():
    with pytest.raises(InvalidWebhook) as caught:
        verify_signature(BODY.encode(), signature_header(BODY, SECRET), [], 300)
    assert "WEBHOOK_SECRETS" in caught.value.log_detail


def test_any_of_several_secrets_and_signatures():
    header = signature_header(BODY, SECRET)
    stamp, good = header.split(",")
    verify_signature(BODY.encode(), header, ["whsec_other", SECRET], 300)
    verify_signature(BODY.encode(), f"{stamp},v1={'0' * 64},{good}", [SECRET], 300)
    assert parse_header(f"{stamp}, v1=aa ,{good},v0=zz") == (int(stamp[2:]), ["aa", good[3:]])


def test_the_timestamp_is_signed_and_must_be_recent():
    now = int(time.time())
    old = signature_header(BODY, SECRET, timestamp=now - 301)
    assert not stripe_accepts(BODY, old)
    with pytest.raises(InvalidWebhook, match="tolerance"):
        verify_signature(BODY.encode(), old, [SECRET], 300)
    verify_signature(BODY.encode(), old, [SECRET], 300, now=now - 10)  # a clock behind
    # Moving the timestamp breaks the signature.
    moved = old.replace(f"t={now - 301}", f"t={now}")
    with pytest.raises(InvalidWebhook, match="no signature matched"):
        verify_signature(BODY.encode(), moved, [SECRET], 300)


def test_the_body_is_signed_byte_for_byte():
    header = signature_header(BODY, SECRET)
    with pytest.raises(InvalidWebhook, match="no signature matched"):
        verify_signature(BODY.encode() + b"\n", header, [SECRET], 300)


def test_no_secret_at_all_names_where_secrets_come_from():
    header = signature_header(BODY, SECRET)
    with pytest.raises(InvalidWebhook) as caught:
        verify_signature(BODY.encode(), header, [], 300)
    assert "event destination for thin events" in caught.value.log_detail
