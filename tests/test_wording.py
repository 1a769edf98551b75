"""Small things a newcomer noticed: ids in admin messages, one wording, tags without a request.

Django's admin writes each message with ``capfirst``: a message that starts
with an account id showed "Acct_1Nv0...", which finds nothing when staff
paste it into Stripe's search. The button and the admin call the
"onboarding" status the same. The tags work without a request (an email, a
background job) for the context's ``user``.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.template import Context, Template
from django.urls import reverse

from django_stripe_express.models import ExpressAccount, WebhookEvent

from .admin_support import staff_client
from .factories import ExpressAccountFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

_MESSAGES = re.compile(r'<ul class="messagelist">(.*?)</ul>', re.S)
_ITEM = re.compile(r"<li[^>]*>(.*?)</li>", re.S)


def shown_messages(response) -> list[str]:
    """The admin's messages as the page shows them (after its ``capfirst``)."""
    found = _MESSAGES.search(response.content.decode())
    assert found, "no messages on the page"
    return [unescape(" ".join(item.split())) for item in _ITEM.findall(found.group(1))]


def changelist_action(client, model: str, action: str, pks: list[int], **extra):
    url = reverse(f"admin:django_stripe_express_{model}_changelist")
    data = {"action": action, "_selected_action": pks, **extra}
    return client.post(url, data, follow=True)


def assert_ids_as_stored(messages: list[str], *ids: str) -> None:
    for text in messages:
        assert not re.match(r"(?i)(acct|evt)_", text), text
    for stripe_id in ids:
        assert any(stripe_id in text for text in messages), (stripe_id, messages)


def test_refresh_messages_show_account_ids_as_stripe_writes_them(fake_stripe):
    changed = ExpressAccountFactory(
        stripe_id=fake_stripe.create_account()["id"], onboarding=True
    )
    fake_stripe.complete_onboarding(changed.stripe_id)
    broken = ExpressAccountFactory(stripe_id=fake_stripe.create_account()["id"])
    fake_stripe.fail_next(f"GET /v1/accounts/{broken.stripe_id}", status=500)
    client = staff_client("view_expressaccount", "change_expressaccount")

    response = changelist_action(
        client, "expressaccount", "refresh_from_stripe", [changed.pk, broken.pk]
    )

    messages = shown_messages(response)
    assert_ids_as_stored(messages, changed.stripe_id, broken.stripe_id)
    assert f"Account {changed.stripe_id} is now Enabled." in messages


def test_disconnect_messages_show_account_ids_as_stripe_writes_them(fake_stripe):
    gone = ExpressAccountFactory(stripe_id=fake_stripe.create_account()["id"], disconnected=True)
    client = staff_client("view_expressaccount", "delete_expressaccount")

    response = changelist_action(
        client, "expressaccount", "disconnect_accounts", [gone.pk], post="yes"
    )

    assert_ids_as_stored(shown_messages(response), gone.stripe_id)


def test_event_messages_show_event_ids_as_stripe_writes_them(fake_stripe):
    event = WebhookEventFactory(status=WebhookEvent.Status.FAILED)
    client = staff_client("view_webhookevent", "change_webhookevent")

    response = changelist_action(client, "webhookevent", "process_again", [event.pk])

    assert_ids_as_stored(shown_messages(response), event.stripe_id)


def test_the_button_and_the_admin_name_an_unfinished_onboarding_alike(rf):
    account = ExpressAccountFactory(onboarding=True)
    request = rf.get("/")
    request.user = account.user
    html = Template("{% load stripe_express %}{% stripe_express_button %}").render(
        Context({"request": request})
    )
    label = str(ExpressAccount.Status.ONBOARDING.label)
    badge = re.search(r'class="stripe-express__badge[^"]*">([^<]+)<', html)
    assert badge is not None
    assert badge.group(1) == label == "Onboarding not finished"


def test_without_a_request_the_tags_show_the_context_s_user():
    # An email or a background job renders without a request: the tags use the
    # context's `user`, and the button's links are the app's paths.
    account = ExpressAccountFactory(restricted=True)
    html = Template(
        "{% load stripe_express %}{% stripe_express_account as acct %}{{ acct.stripe_id }}|"
        "{% stripe_express_button %}"
    ).render(Context({"user": account.user}))

    stripe_id, button = html.split("|", 1)
    assert stripe_id == account.stripe_id
    assert 'data-stripe-express-status="restricted"' in button
    assert 'action="/stripe/connect/"' in button  # no page to come back to: no next
    assert "<details" not in button  # no disconnect form in an email (no CSRF token)
