"""Helpers shared by the Account Links and dashboard tests."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.messages import get_messages

from django_stripe_express import signals

#: The ``include`` the app sends with every v2 account read, spelled out here as
#: Stripe's docs name the parts (the app's own list is `accounts_v2.INCLUDE`).
INCLUDE = [
    "configuration.merchant",
    "configuration.recipient",
    "defaults",
    "future_requirements",
    "identity",
    "requirements",
]

#: Where each Accounts API creates accounts, makes links and reads an account.
PATHS = {
    "v1": {"create": "/v1/accounts", "link": "/v1/account_links", "retrieve": "/v1/accounts"},
    "v2": {
        "create": "/v2/core/accounts",
        "link": "/v2/core/account_links",
        "retrieve": "/v2/core/accounts",
    },
}


class FlowFake:
    """The fake Stripe, seen through the Accounts API the app creates accounts with."""

    def __init__(self, fake: Any, api: str) -> None:
        self._fake = fake
        self.api = api
        self.create_path = PATHS[api]["create"]
        self.link_path = PATHS[api]["link"]
        self.retrieve_path = PATHS[api]["retrieve"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fake, name)

    def creates(self) -> list[Any]:
        """The account creations the fake received."""
        return [r for r in self._fake.requests_to(self.create_path, "POST")
                if r.path == self.create_path]

    def links(self) -> list[Any]:
        return self._fake.requests_to(self.link_path, "POST")

    def create_params(self, recorded: Any) -> dict[str, Any]:
        """A creation's parameters: the form (v1) or the JSON body (v2)."""
        return json.loads(recorded.body) if self.api == "v2" else recorded.form


@pytest.fixture(params=["v1", "v2"])
def accounts_api(request):
    """Each value of ``ACCOUNTS_API``: the Account Links flow must work with both."""
    return request.param


@pytest.fixture
def account_links_mode(fake_stripe, settings, accounts_api):
    """The fake Stripe, with the app in Account Links mode (once per Accounts API)."""
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "ONBOARDING": "account_links",
        "ACCOUNTS_API": accounts_api,
    }
    return FlowFake(fake_stripe, accounts_api)


only_v1 = pytest.mark.parametrize("accounts_api", ["v1"], indirect=True)
only_v2 = pytest.mark.parametrize("accounts_api", ["v2"], indirect=True)


@pytest.fixture
def signals_received():
    """Signals sent during the test, as ``(signal name, kwargs)``."""
    seen: list[tuple[str, dict[str, Any]]] = []
    receivers = {}
    for name in ("account_connected", "account_updated", "account_deauthorized",
                 "connect_failed"):
        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            seen.append((_name, kwargs))
        receivers[name] = receiver
        getattr(signals, name).connect(receiver, weak=False)
    yield seen
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def texts(response) -> list[str]:
    """The messages queued for the user by the request behind ``response``."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def header(recorded, name: str) -> str | None:
    """A header of a request the fake recorded, whatever its case."""
    return {k.lower(): v for k, v in recorded.headers.items()}.get(name.lower())


def local_path(url: str) -> str:
    """``http://testserver/stripe/x/?q`` -> ``/stripe/x/?q`` for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def hosted_onboarding(url: str, *, finish: bool = True, outcome: str | None = None) -> str:
    """Open the fake's hosted page at ``url`` and submit it; return where it sends back.

    ``outcome``: how Stripe's verification ends (the page's select, default enabled).
    """
    page = requests.get(url, allow_redirects=False, timeout=5)
    assert page.status_code == 200, page.text
    assert "Agree and submit" in page.text
    data = {"action": "agree", "finish": "on"} if finish else {"action": "later"}
    if outcome is not None:
        assert f'<option value="{outcome}">' in page.text
        data["outcome"] = outcome
    answer = requests.post(url, data=data, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["Location"]


@pytest.fixture(params=[0, None], ids=["no-retries", "production-retries"])
def network_retries(request, account_links_mode, settings):
    """Account Links mode with no retries, then with the app's default (the
    ``stripe`` library retries 409 and 5xx answers itself, with the same key)."""
    merged = {**settings.STRIPE_EXPRESS, "MAX_NETWORK_RETRIES": request.param}
    if request.param is None:
        del merged["MAX_NETWORK_RETRIES"]
    settings.STRIPE_EXPRESS = merged
    return request.param
