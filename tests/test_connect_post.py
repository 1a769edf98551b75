"""Starting onboarding is a POST with the CSRF token; a GET has no side effect.

A cross-site ``<img src=".../stripe/connect/">`` (or a link prefetch) used to
create a Stripe account in the victim's name (Account Links: Stripe emails
them) or add an attempt row per request (OAuth). Now a GET only shows the
button, and the button is a form.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from django_stripe_express.models import ConnectAttempt, ExpressAccount

from .factories import ConnectAttemptFactory, ExpressAccountFactory
from .oauth_support import back_to_app, callback, query_of, start, submit_hosted_page

CONNECT = "/stripe/connect/"
_FORM = re.compile(
    r'<form class="stripe-express__form" method="post" action="([^"]*)">'
    r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">'
)


@pytest.fixture(params=["oauth", "account_links"])
def either_flow(request, fake_stripe, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": request.param}
    return fake_stripe


def test_a_get_starts_nothing_and_shows_the_button(csrf_client, either_flow):
    response = csrf_client.get(CONNECT)

    assert response.status_code == 200
    assert response.templates[0].name == "django_stripe_express/connect.html"
    html = response.content.decode()
    assert 'data-stripe-express-status="not_connected"' in html
    assert _FORM.search(html).group(1) == CONNECT  # no next: SUCCESS_URL
    assert either_flow.requests == []  # no Stripe account, no link
    assert not ConnectAttempt.objects.exists()
    assert not ExpressAccount.objects.exists()


def test_an_image_tag_elsewhere_creates_nothing_however_often(csrf_client, either_flow):
    for _ in range(5):
        csrf_client.get(CONNECT, HTTP_SEC_FETCH_DEST="image", HTTP_REFERER="https://evil.example/")
    assert either_flow.requests == []
    assert not ConnectAttempt.objects.exists()


def test_a_cross_site_post_without_the_token_is_refused(csrf_client, either_flow):
    response = csrf_client.post(CONNECT, HTTP_REFERER="https://evil.example/")
    assert response.status_code == 403
    assert either_flow.requests == []
    assert not ConnectAttempt.objects.exists()


def test_the_token_is_required_even_without_the_csrf_middleware(
    csrf_client, either_flow, settings
):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CsrfViewMiddleware" not in m]
    assert csrf_client.post(CONNECT).status_code == 403
    assert either_flow.requests == []
    assert not ConnectAttempt.objects.exists()


def test_the_page_s_button_starts_onboarding(csrf_client, either_flow):
    page = csrf_client.get(CONNECT, {"next": "/settings/payouts/"}).content.decode()
    action, token = _FORM.search(page).groups()
    assert action == "/stripe/connect/?next=%2Fsettings%2Fpayouts%2F"

    response = csrf_client.post(action, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response["Location"].startswith(either_flow.url)
    assert ConnectAttempt.objects.get().next_url == "/settings/payouts/"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/stripe/connect/x"]
)
def test_the_page_passes_on_only_a_safe_next(logged_in_client, fake_stripe, next_url):
    page = logged_in_client.get(CONNECT, {"next": next_url}).content.decode()
    action = _FORM.search(page).group(1)
    assert "evil" not in action
    if next_url.startswith("/stripe/"):
        assert action == "/stripe/connect/?next=%2Fstripe%2Fconnect%2Fx"


@pytest.mark.parametrize(("traits", "status"), [
    ({}, "enabled"),
    ({"restricted": True}, "restricted"),
    ({"pending": True}, "pending_verification"),
])
def test_a_finished_onboarding_gets_its_status_page(
    logged_in_client, user, either_flow, traits, status
):
    # The page is where the flows land by default: it shows the account as it is
    # (with the dashboard link), never bounces the user off to Stripe.
    ExpressAccountFactory(user=user, **traits)
    response = logged_in_client.get(CONNECT)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-stripe-express-status="{status}"' in html
    if status != "restricted":  # restricted offers the details form instead
        assert 'action="/stripe/dashboard/' in html
    assert either_flow.requests == []


@pytest.mark.parametrize(("trait", "label"), [
    ("onboarding", "Finish setting up payouts"),
    ("disconnected", "Reconnect"),
])
def test_an_unfinished_account_gets_its_button_page(
    logged_in_client, user, either_flow, trait, label
):
    ExpressAccountFactory(user=user, **{trait: True})
    response = logged_in_client.get(CONNECT)
    assert response.status_code == 200
    assert label in response.content.decode()
    assert either_flow.requests == []


def test_other_methods_are_refused(logged_in_client, fake_stripe):
    assert logged_in_client.put(CONNECT).status_code == 405
    assert logged_in_client.head(CONNECT).status_code == 200
    assert not ConnectAttempt.objects.exists()


# -- OAuth: an unfinished attempt is reused, not multiplied ---------------------------


def test_starting_again_reuses_the_unfinished_attempt(logged_in_client, user, fake_stripe):
    states = [query_of(start(logged_in_client))["state"][0] for _ in range(5)]

    assert len(set(states)) == 5
    attempt = ConnectAttempt.objects.get()
    assert attempt.user == user
    assert attempt.is_pending
    # Only the newest link finishes; an older one is refused like any unknown state.
    older = callback(logged_in_client, state=states[0], code=fake_stripe.issue_code())
    assert older.status_code == 400
    response = callback(logged_in_client, state=states[-1], code=fake_stripe.issue_code())
    assert response["Location"] == "/dashboard/"
    attempt.refresh_from_db()
    assert attempt.outcome == ConnectAttempt.Outcome.CONNECTED


def test_an_expired_or_ended_attempt_is_kept_as_it_was(logged_in_client, user, fake_stripe):
    expired = ConnectAttemptFactory(user=user, expires_at=timezone.now() - datetime.timedelta(1))
    declined = ConnectAttemptFactory(user=user, outcome=ConnectAttempt.Outcome.DECLINED)
    other_users = ConnectAttemptFactory()

    start(logged_in_client)

    assert ConnectAttempt.objects.count() == 4
    for kept in (expired, declined, other_users):
        before = kept.state_hash
        kept.refresh_from_db()
        assert kept.state_hash == before


def test_the_reused_attempt_gets_a_fresh_expiry_and_next(logged_in_client, fake_stripe, settings):
    start(logged_in_client, next="/first/")
    first = ConnectAttempt.objects.get()
    ConnectAttempt.objects.update(expires_at=timezone.now() + datetime.timedelta(seconds=5))

    start(logged_in_client, next="/second/")

    again = ConnectAttempt.objects.get()
    assert again.pk == first.pk
    assert again.next_url == "/second/"
    assert again.expires_at > timezone.now() + datetime.timedelta(minutes=59)


def test_a_full_trip_after_starting_twice(logged_in_client, fake_stripe):
    start(logged_in_client)
    location = submit_hosted_page(start(logged_in_client))
    assert back_to_app(logged_in_client, location)["Location"] == "/dashboard/"
    assert ExpressAccount.objects.count() == 1
    assert ConnectAttempt.objects.get().outcome == ConnectAttempt.Outcome.CONNECTED


# -- the other GET views only ever touch the user's own account -------------------------


@pytest.mark.parametrize("path", [
    "/stripe/dashboard/", "/stripe/onboarding/refresh/", "/stripe/onboarding/return/",
])
def test_get_views_never_touch_another_user_s_account(
    client, user, other_user, either_flow, path
):
    victim = either_flow.create_account(email=other_user.email)["id"]
    either_flow.complete_onboarding(victim)
    ExpressAccountFactory(user=other_user, stripe_id=victim)
    client.force_login(user)

    for params in ({}, {"account": victim}, {"stripe_id": victim}, {"user": other_user.pk}):
        # The dashboard acts on its POST (its GET shows a button and makes nothing).
        send = client.post if path == "/stripe/dashboard/" else client.get
        response = send(path, params)
        assert response.status_code == 302
        assert response["Location"] == CONNECT

    assert [r for r in either_flow.requests if victim in r.path] == []
    assert ExpressAccount.objects.count() == 1
    assert not ConnectAttempt.objects.exists()


@pytest.mark.parametrize("path", [
    "/stripe/dashboard/", "/stripe/onboarding/refresh/", "/stripe/onboarding/return/",
])
def test_get_views_use_the_user_s_own_account_whatever_the_query(
    client, user, other_user, either_flow, path
):
    mine = either_flow.create_account(email=user.email)["id"]
    victim = either_flow.create_account(email=other_user.email)["id"]
    for acct in (mine, victim):
        either_flow.complete_onboarding(acct)
    ExpressAccountFactory(user=user, stripe_id=mine)
    ExpressAccountFactory(user=other_user, stripe_id=victim)
    client.force_login(user)

    (client.post if path == "/stripe/dashboard/" else client.get)(path, {"account": victim})

    touched = {
        acct for acct in (mine, victim) for r in either_flow.requests
        if acct in r.path + str(r.form)
    }
    assert touched == {mine}
