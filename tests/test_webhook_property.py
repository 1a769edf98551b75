"""Property: whatever arrives, the webhook never answers 500 and stores nothing it
should not. Hypothesis generates bodies and headers."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_stripe_express.models import WebhookEvent
from django_stripe_express.testing import signature_header

URL = "/stripe/webhook/"
SECRET = "whsec_property_test"

FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["object", "id", "type", "created", "data", "account", "livemode"])
        | st.text(max_size=8),
        children,
        max_size=6,
    ),
    max_leaves=20,
)
# Near misses of an event are more interesting than random noise.
event_like = st.fixed_dictionaries(
    {"object": st.sampled_from(["event", "account", 1, None])},
    optional={
        "id": st.one_of(st.text(max_size=300), st.integers()),
        "type": st.one_of(st.sampled_from(["account.updated", "capability.updated"]),
                          st.integers(), st.text(max_size=5)),
        "created": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text()),
        "data": json_values,
        "account": json_values,
    },
)
text_bodies = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    event_like.map(json.dumps),
)
headers = st.one_of(
    st.none(),
    st.text(max_size=100),
    st.builds(
        lambda t, sigs: ",".join([f"t={t}", *[f"v1={s}" for s in sigs]]),
        st.one_of(st.integers(), st.text(max_size=12)),
        st.lists(st.text(alphabet="0123456789abcdef", max_size=64), max_size=3),
    ),
)


@pytest.fixture
def secret(settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_SECRETS": [SECRET]}
    return SECRET


@FAST
@given(body=st.one_of(st.binary(max_size=300), text_bodies.map(str.encode)), header=headers)
def test_unsigned_input_is_400_and_stores_nothing(client, db, secret, body, header):
    extra = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    response = client.post(URL, data=body, content_type="application/json", **extra)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@FAST
@given(body=text_bodies)
def test_signed_input_never_fails_and_stores_only_events(client, db, secret, body):
    before = WebhookEvent.objects.count()
    response = client.post(
        URL, data=body.encode(), content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(body, secret),
    )
    assert response.status_code in {200, 400}
    stored = WebhookEvent.objects.count() - before
    if response.status_code == 400:
        assert stored == 0
    else:
        assert stored <= 1  # a well-formed event (recorded, ignored) or a duplicate


@pytest.mark.parametrize("field", ["id", "type", "account"])
def test_an_envelope_with_nul_is_refused(client, db, secret, field):
    # PostgreSQL cannot store NUL in text: refused up front instead of a 500.
    event = {"object": "event", "id": "evt_1", "type": "payout.paid", "created": 1,
             "data": {"object": {}}, "account": "acct_1"}
    event[field] = "x\x00y"
    body = json.dumps(event)
    response = client.post(URL, data=body.encode(), content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=signature_header(body, secret))
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
