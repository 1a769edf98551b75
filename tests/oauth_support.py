"""Helpers for the OAuth tests: drive the fake's hosted authorize page over HTTP."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client

_FORM = re.compile(r'<form method="post" action="([^"]+)">')
_QUERY = re.compile(r'<input type="hidden" name="query" value="([^"]*)">')


def start(client: Client, **params: Any) -> str:
    """POST to the app's `connect` view (as its button does); the authorize URL
    it redirects to. ``params`` go in the query string, as the button's ``next``."""
    query = f"?{urlencode(params)}" if params else ""
    response = client.post(f"/stripe/connect/{query}")
    assert response.status_code == 302, response
    return str(response["Location"])


def submit_hosted_page(
    authorize_url: str, *, action: str = "agree", finish: bool = True, outcome: str | None = None
) -> str:
    """Open the fake's authorize page, press a button; the redirect back (Location).

    ``outcome``: how Stripe's verification ends (the page's select, default enabled).
    """
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    form_action = html.unescape(_FORM.search(page.text).group(1))  # type: ignore[union-attr]
    query = html.unescape(_QUERY.search(page.text).group(1))  # type: ignore[union-attr]
    data = {"query": query, "action": action}
    if finish:
        data["finish"] = "on"
    if outcome is not None:
        assert f'<option value="{outcome}">' in page.text
        data["outcome"] = outcome
    answer = requests.post(
        urljoin(authorize_url, form_action), data=data, allow_redirects=False, timeout=5
    )
    assert answer.status_code in (302, 303), answer.text
    return str(answer.headers["Location"])


def back_to_app(client: Client, location: str) -> HttpResponse:
    """Follow Stripe's redirect to the app's callback with the Django test client."""
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")  # type: ignore[return-value]


def callback(client: Client, **params: str) -> HttpResponse:
    return client.get("/stripe/oauth/callback/", params)  # type: ignore[return-value]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def messages_of(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]
